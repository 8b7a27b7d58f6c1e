//! Whole small applications as Rust engineers write them, in domains the earlier rounds left
//! out: splines (Catmull-Rom and uniform cubic B-splines with index arithmetic, Lagrange
//! interpolation, bilinear image sampling); robotics and geometry (inverse kinematics with a
//! struct per joint, ray–sphere misses, Rodrigues rotations, homographies, trilateration, a
//! truss); statistics (a Gaussian process likelihood through a hand-written Cholesky, an HMM's
//! forward algorithm, Cox partial likelihood after sorting, GARCH, Hawkes processes, ordinal
//! regression, mixture density networks); machine learning (label smoothing, temperature
//! scaling, factorization machines, skip-gram with negative sampling, TransE, REINFORCE, VAE
//! and planar-flow objectives, soft-DTW); finance (CVaR after sorting, Kelly betting, a
//! mean–variance allocation whose methods call each other, Nelson–Siegel curves); physics and
//! control (moments of inertia over an enum of shapes, an Euler–Bernoulli beam, LQR rollouts,
//! PID loops, SIR epidemics, pharmacokinetics, RLC impedance, Fermat's principle); and the
//! idioms such code is written with: closures kept in variables, `while let Some(..) =
//! stack.pop()`, early returns from nested loops, `windows(3)`, `step_by`, `chunks_exact`,
//! three-way `zip`, `iter().rev().enumerate()`, generic helpers over `F: Float`, and `f32`.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's. Many also have their Hessian-vector products (`_hvp`) or tangents (`_jvp`)
//! checked.

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

mod common;
use common::*;

/// The scalar `H·v` of a function of one float against central differences of its derivative.
#[track_caller]
fn hvp1_against_fd(what: &str, grad: impl Fn(f64) -> f64, x: f64, v: f64, hv: f64) {
    let h = 1e-5;
    let e = v * (grad(x + h) - grad(x - h)) / (2.0 * h);
    close(what, hv, e, 1e-6);
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

// ---------------------------------------------------------------------------------------------
// Splines and interpolation.
// ---------------------------------------------------------------------------------------------

/// A uniform Catmull-Rom spline through the control values `p`, at `t ∈ [0, 1]`: the segment
/// from `t` by `floor`, its local parameter `u`, and the four neighbouring control values.
#[differentiate(hessian)]
fn catmull_rom(p: &[f64], t: f64) -> f64 {
    let segs = p.len() - 3;
    let s = t * segs as f64;
    let mut i = s.floor() as usize;
    if i >= segs {
        i = segs - 1;
    }
    let u = s - i as f64;
    let (p0, p1, p2, p3) = (p[i], p[i + 1], p[i + 2], p[i + 3]);
    let u2 = u * u;
    let u3 = u2 * u;
    0.5 * (2.0 * p1
        + (-p0 + p2) * u
        + (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3) * u2
        + (-p0 + 3.0 * p1 - 3.0 * p2 + p3) * u3)
}

/// Least squares of the spline against samples `(t, y)`.
#[differentiate(hessian, wrt(p))]
fn catmull_rom_fit(p: &[f64], ts: &[f64], ys: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (&t, &y) in ts.iter().zip(ys) {
        let r = catmull_rom(p, t) - y;
        loss += r * r;
    }
    loss
}

/// The Catmull-Rom weights of the four control values at local parameter `u`, and the segment.
fn catmull_rom_weights(n: usize, t: f64) -> (usize, [f64; 4]) {
    let segs = n - 3;
    let s = t * segs as f64;
    let i = (s.floor() as usize).min(segs - 1);
    let u = s - i as f64;
    let (u2, u3) = (u * u, u * u * u);
    (
        i,
        [
            0.5 * (-u + 2.0 * u2 - u3),
            0.5 * (2.0 - 5.0 * u2 + 3.0 * u3),
            0.5 * (u + 4.0 * u2 - 3.0 * u3),
            0.5 * (-u2 + u3),
        ],
    )
}

#[test]
fn catmull_rom_spline_fit_with_segment_index_arithmetic() {
    let p = vec![0.0, 0.4, 1.1, 0.9, 0.2, -0.3, 0.1];
    let ts: Vec<f64> = (0..9).map(|k| 0.05 + 0.11 * k as f64).collect();
    let ys: Vec<f64> = ts.iter().map(|t| (3.0 * t).sin()).collect();
    let (v, g) = catmull_rom_fit_grad(&p, &ts, &ys);
    close("value", v, catmull_rom_fit(&p, &ts, &ys), TOL);
    // The spline is linear in p: ∂p_{i+k} = Σ 2 r wₖ(u), and H = 2 Σ w wᵀ.
    let mut e = vec![0.0; p.len()];
    let dir: Vec<f64> = (0..p.len()).map(|i| 0.3 - 0.1 * i as f64).collect();
    let mut hv = vec![0.0; p.len()];
    for (&t, &y) in ts.iter().zip(&ys) {
        let (i, w) = catmull_rom_weights(p.len(), t);
        let s: f64 = (0..4).map(|k| w[k] * p[i + k]).sum();
        let wd: f64 = (0..4).map(|k| w[k] * dir[i + k]).sum();
        for k in 0..4 {
            e[i + k] += 2.0 * (s - y) * w[k];
            hv[i + k] += 2.0 * w[k] * wd;
        }
    }
    close_all("∂p", &g, &e);
    fd_vec("∂p", |p| catmull_rom_fit(p, &ts, &ys), &p, &g);
    let (_, g2, h) = catmull_rom_fit_hvp(&p, &ts, &ys, &dir);
    close_all("hvp gradient", &g2, &g);
    close_all("H·v", &h, &hv);
    // The spline's slope in t at a knot (u = 0 of segment 1): 0.5·segs·(p₃ − p₁).
    let (_, (_, dt)) = catmull_rom_grad(&p, 0.25);
    let (_, gt) = catmull_rom_grad(&p, 0.41);
    close("∂t at a knot", dt, 0.5 * 4.0 * (p[3] - p[1]), TOL);
    fd("∂t", |t| catmull_rom(&p, t), 0.41, gt.1);
}

/// A point of a uniform cubic B-spline curve at `t ∈ [0, 1)`, the span found from `t`.
#[differentiate(hessian)]
fn bspline_point(ctrl: &[[f64; 2]], t: f64) -> [f64; 2] {
    let spans = ctrl.len() - 3;
    let s = t * spans as f64;
    let i = (s.floor() as usize).min(spans - 1);
    let u = s - i as f64;
    let b = [
        (1.0 - u).powi(3) / 6.0,
        (3.0 * u * u * u - 6.0 * u * u + 4.0) / 6.0,
        (-3.0 * u * u * u + 3.0 * u * u + 3.0 * u + 1.0) / 6.0,
        u * u * u / 6.0,
    ];
    let mut p = [0.0, 0.0];
    for k in 0..4 {
        p[0] += b[k] * ctrl[i + k][0];
        p[1] += b[k] * ctrl[i + k][1];
    }
    p
}

/// Fits a B-spline curve's control polygon to points sampled at known parameters.
#[differentiate(hessian, wrt(ctrl))]
fn bspline_fit(ctrl: &[[f64; 2]], ts: &[f64], targets: &[[f64; 2]]) -> f64 {
    let mut total = 0.0;
    for (k, &t) in ts.iter().enumerate() {
        let p = bspline_point(ctrl, t);
        let dx = p[0] - targets[k][0];
        let dy = p[1] - targets[k][1];
        total += dx * dx + dy * dy;
    }
    total
}

#[test]
fn bspline_curve_fit_through_a_helper_returning_an_array() {
    let ctrl: Vec<[f64; 2]> = (0..6)
        .map(|i| [i as f64 * 0.5, (i as f64 * 0.9).sin()])
        .collect();
    let ts: Vec<f64> = (0..8).map(|k| 0.03 + 0.12 * k as f64).collect();
    let targets: Vec<[f64; 2]> = ts.iter().map(|t| [2.5 * t, (4.0 * t).cos()]).collect();
    let (v, g) = bspline_fit_grad(&ctrl, &ts, &targets);
    close("value", v, bspline_fit(&ctrl, &ts, &targets), TOL);
    // ∂ctrl_{i+k} = Σ 2 bₖ(u) (B(t) − q)
    let mut e = vec![[0.0; 2]; ctrl.len()];
    for (k, &t) in ts.iter().enumerate() {
        let s = t * 3.0;
        let i = (s.floor() as usize).min(2);
        let u = s - i as f64;
        let b = [
            (1.0 - u).powi(3) / 6.0,
            (3.0 * u.powi(3) - 6.0 * u * u + 4.0) / 6.0,
            (-3.0 * u.powi(3) + 3.0 * u * u + 3.0 * u + 1.0) / 6.0,
            u.powi(3) / 6.0,
        ];
        let p = bspline_point(&ctrl, t);
        for j in 0..4 {
            for c in 0..2 {
                e[i + j][c] += 2.0 * b[j] * (p[c] - targets[k][c]);
            }
        }
    }
    for i in 0..ctrl.len() {
        close("∂ctrl x", g[i][0], e[i][0], TOL);
        close("∂ctrl y", g[i][1], e[i][1], TOL);
    }
    let r = gradcheck(|c: &Vec<[f64; 2]>| bspline_fit(c, &ts, &targets), &ctrl, &g);
    assert!(r.passed(), "∂ctrl: {r}");
    let dir: Vec<[f64; 2]> = (0..6).map(|i| [0.2, 0.1 * i as f64 - 0.3]).collect();
    let (_, _, hv) = bspline_fit_hvp(&ctrl, &ts, &targets, &dir);
    let h = 1e-5;
    let shift = |s: f64| -> Vec<[f64; 2]> {
        ctrl.iter()
            .zip(&dir)
            .map(|(c, d)| [c[0] + s * d[0], c[1] + s * d[1]])
            .collect()
    };
    let (_, gp) = bspline_fit_grad(&shift(h), &ts, &targets);
    let (_, gm) = bspline_fit_grad(&shift(-h), &ts, &targets);
    for i in 0..6 {
        for c in 0..2 {
            close("H·v", hv[i][c], (gp[i][c] - gm[i][c]) / (2.0 * h), 1e-6);
        }
    }
}

/// The Lagrange interpolating polynomial through `(xs, ys)`, evaluated at `x`.
#[differentiate]
fn lagrange(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..xs.len() {
        let mut basis = 1.0;
        for j in 0..xs.len() {
            if j != i {
                basis *= (x - xs[j]) / (xs[i] - xs[j]);
            }
        }
        total += ys[i] * basis;
    }
    total
}

#[test]
fn lagrange_interpolation_in_nodes_values_and_point() {
    let xs = vec![-1.0, -0.2, 0.5, 1.3];
    let ys = vec![0.3, -0.4, 1.1, 0.2];
    let x = 0.8;
    let (v, (gx, gy, gp)) = lagrange_grad(&xs, &ys, x);
    close("value", v, lagrange(&xs, &ys, x), TOL);
    // ∂yᵢ = ℓᵢ(x), the basis polynomial at x
    for i in 0..4 {
        let l: f64 = (0..4)
            .filter(|&j| j != i)
            .map(|j| (x - xs[j]) / (xs[i] - xs[j]))
            .product();
        close("∂y", gy[i], l, TOL);
    }
    // Through nodes of a cubic the interpolant is the cubic itself: p'(x) = 3x² − 1 for x³ − x.
    let cub: Vec<f64> = xs.iter().map(|t| t * t * t - t).collect();
    let (_, (_, _, slope)) = lagrange_grad(&xs, &cub, x);
    close("∂x of a cubic", slope, 3.0 * x * x - 1.0, 1e-12);
    fd("∂x", |x| lagrange(&xs, &ys, x), x, gp);
    fd_vec("∂nodes", |n| lagrange(n, &ys, x), &xs, &gx);
    fd_vec("∂values", |y| lagrange(&xs, y, x), &ys, &gy);
}

/// An image sampled at a continuous position by bilinear interpolation: the cell found by
/// `floor`, the four corners by index arithmetic on a row-major buffer. (Its helpers keep the
/// default activity: `wrt` belongs on the outermost function.)
#[differentiate(hessian)]
fn bilinear(img: &[f64], width: usize, px: f64, py: f64) -> f64 {
    let x0 = px.floor() as usize;
    let y0 = py.floor() as usize;
    let (fx, fy) = (px - x0 as f64, py - y0 as f64);
    let at = |x: usize, y: usize| img[y * width + x];
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
    let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Registration of a patch by a translation: the squared difference between the template and
/// the image sampled at the shifted positions.
#[differentiate(hessian, wrt(shift))]
fn patch_registration(img: &[f64], width: usize, template: &[f64], shift: [f64; 2]) -> f64 {
    let mut loss = 0.0;
    for (k, &t) in template.iter().enumerate() {
        let (i, j) = (k % 3, k / 3);
        let v = bilinear(
            img,
            width,
            1.0 + i as f64 + shift[0],
            1.0 + j as f64 + shift[1],
        );
        loss += (v - t) * (v - t);
    }
    loss
}

#[test]
fn bilinear_sampling_and_patch_registration() {
    let width = 7;
    let img: Vec<f64> = (0..49)
        .map(|k| ((k % 7) as f64 * 0.7).sin() + ((k / 7) as f64 * 0.4).cos())
        .collect();
    let (px, py) = (2.3, 3.6);
    let (v, (gimg, gx, gy)) = bilinear_grad(&img, width, px, py);
    close("value", v, bilinear(&img, width, px, py), TOL);
    // Inside a cell: ∂x = (1−fy)(b−a) + fy(d−c), ∂y = (c + (d−c)fx) − (a + (b−a)fx)
    let (a, b, c, d) = (
        img[3 * 7 + 2],
        img[3 * 7 + 3],
        img[4 * 7 + 2],
        img[4 * 7 + 3],
    );
    let (fx, fy) = (0.3, 0.6);
    close("∂px", gx, (1.0 - fy) * (b - a) + fy * (d - c), 1e-12);
    close("∂py", gy, (c + (d - c) * fx) - (a + (b - a) * fx), 1e-12);
    fd2(
        "bilinear",
        |x, y| bilinear(&img, width, x, y),
        (px, py),
        (gx, gy),
    );
    // ∂img: the four corner weights, nothing elsewhere
    let mut e = vec![0.0; 49];
    e[3 * 7 + 2] = (1.0 - fx) * (1.0 - fy);
    e[3 * 7 + 3] = fx * (1.0 - fy);
    e[4 * 7 + 2] = (1.0 - fx) * fy;
    e[4 * 7 + 3] = fx * fy;
    for k in 0..49 {
        close("∂img", gimg[k], e[k], 1e-12);
    }
    let template: Vec<f64> = (0..9).map(|k| 0.5 + 0.1 * k as f64).collect();
    let shift = [0.35, 0.2];
    let (v, g) = patch_registration_grad(&img, width, &template, shift);
    close(
        "value",
        v,
        patch_registration(&img, width, &template, shift),
        TOL,
    );
    let r = gradcheck(
        |s: &[f64; 2]| patch_registration(&img, width, &template, *s),
        &shift,
        &g,
    );
    assert!(r.passed(), "∂shift: {r}");
    // Within one cell the loss is a polynomial; H·v against differences of the gradient.
    let (_, _, hv) = patch_registration_hvp(&img, width, &template, shift, [1.0, -0.5]);
    let h = 1e-6;
    let (_, gp) =
        patch_registration_grad(&img, width, &template, [shift[0] + h, shift[1] - 0.5 * h]);
    let (_, gm) =
        patch_registration_grad(&img, width, &template, [shift[0] - h, shift[1] + 0.5 * h]);
    for c in 0..2 {
        close("H·v", hv[c], (gp[c] - gm[c]) / (2.0 * h), 1e-6);
    }
}

// ---------------------------------------------------------------------------------------------
// Robotics and geometry.
// ---------------------------------------------------------------------------------------------

/// A revolute joint and the link after it.
#[derive(Clone, Copy, Debug, Differentiable)]
struct Joint {
    angle: f64,
    length: f64,
}

/// The squared distance of a planar arm's end effector from a target.
#[differentiate]
fn reach_error(joints: &[Joint], target: [f64; 2]) -> f64 {
    let (mut x, mut y, mut phi) = (0.0, 0.0, 0.0);
    for j in joints {
        phi += j.angle;
        x += j.length * phi.cos();
        y += j.length * phi.sin();
    }
    (x - target[0]).powi(2) + (y - target[1]).powi(2)
}

#[test]
fn inverse_kinematics_with_a_struct_per_joint() {
    let mut joints = vec![
        Joint {
            angle: 0.3,
            length: 1.0,
        },
        Joint {
            angle: -0.5,
            length: 0.8,
        },
        Joint {
            angle: 0.9,
            length: 0.5,
        },
    ];
    let target = [1.2, 1.1];
    let (v, (g, gt)) = reach_error_grad(&joints, target);
    close("value", v, reach_error(&joints, target), TOL);
    // φᵢ = Σ_{j≤i} θⱼ; e = end − target. ∂θᵢ = 2 e × (end − jointᵢ), ∂lᵢ = 2 e·(cos φᵢ, sin φᵢ)
    let mut phis = vec![];
    let mut acc = 0.0;
    for j in &joints {
        acc += j.angle;
        phis.push(acc);
    }
    let ex: f64 = joints
        .iter()
        .zip(&phis)
        .map(|(j, p)| j.length * p.cos())
        .sum::<f64>()
        - target[0];
    let ey: f64 = joints
        .iter()
        .zip(&phis)
        .map(|(j, p)| j.length * p.sin())
        .sum::<f64>()
        - target[1];
    for i in 0..3 {
        let sx: f64 = (i..3).map(|k| -joints[k].length * phis[k].sin()).sum();
        let sy: f64 = (i..3).map(|k| joints[k].length * phis[k].cos()).sum();
        close("∂θ", g[i].angle, 2.0 * (ex * sx + ey * sy), TOL);
        close(
            "∂l",
            g[i].length,
            2.0 * (ex * phis[i].cos() + ey * phis[i].sin()),
            TOL,
        );
    }
    close("∂target", gt[0], -2.0 * ex, TOL);
    let r = gradcheck(|j: &Vec<Joint>| reach_error(j, target), &joints, &g);
    assert!(r.passed(), "∂joints: {r}");
    // Gradient descent on the angles alone reaches the target.
    for _ in 0..300 {
        let (_, (g, _)) = reach_error_grad(&joints, target);
        for (j, d) in joints.iter_mut().zip(&g) {
            j.angle -= 0.1 * d.angle;
        }
    }
    assert!(reach_error(&joints, target) < 1e-8);
}

/// How far a ray misses a sphere, squared: the ray's closest point to the centre, its distance
/// from the centre, less the radius. The direction is unit length.
#[differentiate(hessian)]
fn ray_sphere_miss(origin: [f64; 3], dir: [f64; 3], center: [f64; 3], radius: f64) -> f64 {
    let oc = [
        center[0] - origin[0],
        center[1] - origin[1],
        center[2] - origin[2],
    ];
    let t = oc[0] * dir[0] + oc[1] * dir[1] + oc[2] * dir[2];
    let closest: [f64; 3] = std::array::from_fn(|k| origin[k] + t * dir[k]);
    let d2: f64 = (0..3).map(|k| (center[k] - closest[k]).powi(2)).sum();
    let miss = d2.sqrt() - radius;
    miss * miss
}

/// A sphere placed so that a bundle of rays grazes it.
#[differentiate(wrt(center, radius))]
fn grazing_loss(rays: &[[f64; 6]], center: [f64; 3], radius: f64) -> f64 {
    rays.iter()
        .map(|r| ray_sphere_miss([r[0], r[1], r[2]], [r[3], r[4], r[5]], center, radius))
        .sum()
}

#[test]
fn ray_sphere_miss_distance() {
    let n = (0.2f64 * 0.2 + 0.3 * 0.3 + 1.0).sqrt();
    let (o, d) = ([0.0, 0.0, -3.0], [0.2 / n, -0.3 / n, 1.0 / n]);
    let (c, r) = ([0.5, 0.4, 0.1], 0.3);
    let (v, (_, _, gc, gr)) = ray_sphere_miss_grad(o, d, c, r);
    close("value", v, ray_sphere_miss(o, d, c, r), TOL);
    // q = (c − o) − ((c − o)·d) d ⊥ d, m = |q|: ∂c = 2(m − r) q/m, ∂r = −2(m − r)
    let oc: Vec<f64> = (0..3).map(|k| c[k] - o[k]).collect();
    let t: f64 = (0..3).map(|k| oc[k] * d[k]).sum();
    let q: Vec<f64> = (0..3).map(|k| oc[k] - t * d[k]).collect();
    let m = q.iter().map(|a| a * a).sum::<f64>().sqrt();
    for k in 0..3 {
        close("∂c", gc[k], 2.0 * (m - r) * q[k] / m, 1e-12);
    }
    close("∂r", gr, -2.0 * (m - r), TOL);
    let r2 = gradcheck(
        |p: &([f64; 3], f64)| ray_sphere_miss(o, d, p.0, p.1),
        &(c, r),
        &(gc, gr),
    );
    assert!(r2.passed(), "{r2}");
    // ∂²/∂r² = 2, and ∂²/∂r∂c = −2 q/m
    let (_, _, (_, _, hc, hr)) = ray_sphere_miss_hvp(o, d, c, r, [0.0; 3], [0.0; 3], [0.0; 3], 1.0);
    close("∂²r", hr, 2.0, TOL);
    for k in 0..3 {
        close("∂²r∂c", hc[k], -2.0 * q[k] / m, 1e-12);
    }
    let rays: Vec<[f64; 6]> = (0..4)
        .map(|i| {
            let a = 0.3 * i as f64;
            let (x, y) = (0.1 * a.cos(), 0.1 * a.sin());
            let n = (x * x + y * y + 1.0).sqrt();
            [-x, 0.2 - y, -2.0, x / n, y / n, 1.0 / n]
        })
        .collect();
    let (v, (gc, gr)) = grazing_loss_grad(&rays, c, r);
    close("bundle value", v, grazing_loss(&rays, c, r), TOL);
    let parts: Vec<(f64, ([f64; 3], [f64; 3], [f64; 3], f64))> = rays
        .iter()
        .map(|q| ray_sphere_miss_grad([q[0], q[1], q[2]], [q[3], q[4], q[5]], c, r))
        .collect();
    close("bundle ∂r", gr, parts.iter().map(|p| p.1.3).sum(), TOL);
    close(
        "bundle ∂c₀",
        gc[0],
        parts.iter().map(|p| p.1.2[0]).sum(),
        TOL,
    );
    let r2 = gradcheck(
        |p: &([f64; 3], f64)| grazing_loss(&rays, p.0, p.1),
        &(c, r),
        &(gc, gr),
    );
    assert!(r2.passed(), "{r2}");
}

/// Rodrigues' rotation of `v` about the unit axis `k` by `theta`.
#[differentiate(hessian)]
fn rodrigues(v: [f64; 3], k: [f64; 3], theta: f64) -> [f64; 3] {
    let (s, c) = theta.sin_cos();
    let kxv = [
        k[1] * v[2] - k[2] * v[1],
        k[2] * v[0] - k[0] * v[2],
        k[0] * v[1] - k[1] * v[0],
    ];
    let kv = k[0] * v[0] + k[1] * v[1] + k[2] * v[2];
    let mut out = [0.0; 3];
    for i in 0..3 {
        out[i] = v[i] * c + kxv[i] * s + k[i] * kv * (1.0 - c);
    }
    out
}

/// The angle that turns a set of points onto their rotated copies, fitted by least squares.
#[differentiate(hessian, wrt(theta))]
fn rotation_fit(points: &[[f64; 3]], targets: &[[f64; 3]], axis: [f64; 3], theta: f64) -> f64 {
    let mut loss = 0.0;
    for (p, q) in points.iter().zip(targets) {
        let r = rodrigues(*p, axis, theta);
        loss += (r[0] - q[0]).powi(2) + (r[1] - q[1]).powi(2) + (r[2] - q[2]).powi(2);
    }
    loss
}

#[test]
fn rodrigues_rotation_angle_fit() {
    let n = (1.0f64 + 4.0 + 0.25).sqrt();
    let axis = [1.0 / n, 2.0 / n, -0.5 / n];
    let points: Vec<[f64; 3]> = (0..4)
        .map(|i| [i as f64 * 0.3, 1.0 - 0.2 * i as f64, 0.5])
        .collect();
    let targets: Vec<[f64; 3]> = points.iter().map(|p| rodrigues(*p, axis, 0.9)).collect();
    let theta = 0.6;
    let (v, g) = rotation_fit_grad(&points, &targets, axis, theta);
    close(
        "value",
        v,
        rotation_fit(&points, &targets, axis, theta),
        TOL,
    );
    // ∂θ = Σ 2 (Rv − q)·(−v sin θ + (k×v) cos θ + k (k·v) sin θ)
    let mut e = 0.0;
    for (p, q) in points.iter().zip(&targets) {
        let r = rodrigues(*p, axis, theta);
        let kxv = [
            axis[1] * p[2] - axis[2] * p[1],
            axis[2] * p[0] - axis[0] * p[2],
            axis[0] * p[1] - axis[1] * p[0],
        ];
        let kv: f64 = (0..3).map(|i| axis[i] * p[i]).sum();
        for i in 0..3 {
            let dr = -p[i] * theta.sin() + kxv[i] * theta.cos() + axis[i] * kv * theta.sin();
            e += 2.0 * (r[i] - q[i]) * dr;
        }
    }
    close("∂θ", g, e, 1e-12);
    let f = |t: f64| rotation_fit(&points, &targets, axis, t);
    fd("∂θ", f, theta, g);
    let (_, g2, hv) = rotation_fit_hvp(&points, &targets, axis, theta, 1.0);
    close("hvp gradient", g2, g, TOL);
    hvp1_against_fd(
        "∂²θ",
        |t| rotation_fit_grad(&points, &targets, axis, t).1,
        theta,
        1.0,
        hv,
    );
    // At the true angle the residuals vanish and so does the gradient.
    let (v0, g0) = rotation_fit_grad(&points, &targets, axis, 0.9);
    assert!(v0 < 1e-24 && g0.abs() < 1e-12);
}

/// A planar homography `h` (row-major, 3×3) applied to points and compared to their matches.
#[differentiate(hessian, wrt(h))]
fn homography_error(h: [f64; 9], src: &[[f64; 2]], dst: &[[f64; 2]]) -> f64 {
    let mut e = 0.0;
    for (p, q) in src.iter().zip(dst) {
        let w = h[6] * p[0] + h[7] * p[1] + h[8];
        let x = (h[0] * p[0] + h[1] * p[1] + h[2]) / w;
        let y = (h[3] * p[0] + h[4] * p[1] + h[5]) / w;
        e += (x - q[0]).powi(2) + (y - q[1]).powi(2);
    }
    e
}

#[test]
fn homography_reprojection_error() {
    let h = [1.1, 0.05, 0.2, -0.03, 0.95, -0.1, 0.01, 0.02, 1.0];
    let src: Vec<[f64; 2]> = (0..5)
        .map(|i| [(i as f64 * 1.3).sin(), (i as f64 * 0.7).cos()])
        .collect();
    let dst: Vec<[f64; 2]> = src
        .iter()
        .map(|p| [p[0] + 0.1 * p[1], p[1] - 0.05])
        .collect();
    let (v, g) = homography_error_grad(h, &src, &dst);
    close("value", v, homography_error(h, &src, &dst), TOL);
    // The translations: ∂h₂ = Σ 2 rₓ / w, ∂h₅ = Σ 2 r_y / w
    let (mut e2, mut e5) = (0.0, 0.0);
    for (p, q) in src.iter().zip(&dst) {
        let w = h[6] * p[0] + h[7] * p[1] + h[8];
        e2 += 2.0 * ((h[0] * p[0] + h[1] * p[1] + h[2]) / w - q[0]) / w;
        e5 += 2.0 * ((h[3] * p[0] + h[4] * p[1] + h[5]) / w - q[1]) / w;
    }
    close("∂h₂", g[2], e2, 1e-12);
    close("∂h₅", g[5], e5, 1e-12);
    let r = gradcheck(|h: &[f64; 9]| homography_error(*h, &src, &dst), &h, &g);
    assert!(r.passed(), "∂h: {r}");
    let dir = [0.1, -0.2, 0.3, 0.0, 0.1, 0.2, 0.01, -0.02, 0.05];
    let (_, _, hv) = homography_error_hvp(h, &src, &dst, dir);
    hvp_against_fd(
        "homography",
        |x| {
            let mut a = [0.0; 9];
            a.copy_from_slice(x);
            homography_error_grad(a, &src, &dst).1.to_vec()
        },
        &h,
        &dir,
        &hv,
    );
}

/// Position and clock bias from pseudo-ranges to known stations: each residual is the
/// distance plus the bias minus the measured range.
#[differentiate(hessian, wrt(pos, bias))]
fn pseudorange_residuals(pos: [f64; 2], bias: f64, stations: &[[f64; 2]], ranges: &[f64]) -> f64 {
    stations
        .iter()
        .zip(ranges)
        .map(|(s, &rho)| {
            let r = (pos[0] - s[0]).hypot(pos[1] - s[1]) + bias - rho;
            r * r
        })
        .sum()
}

#[test]
fn trilateration_with_clock_bias() {
    let stations = vec![[0.0, 0.0], [10.0, 0.0], [0.0, 8.0], [9.0, 9.0]];
    let truth = [3.0, 4.0];
    let ranges: Vec<f64> = stations
        .iter()
        .enumerate()
        .map(|(i, s)| (truth[0] - s[0]).hypot(truth[1] - s[1]) + 0.5 + 0.01 * i as f64)
        .collect();
    let (pos, bias) = ([3.4, 3.7], 0.2);
    let (v, (gp, gb)) = pseudorange_residuals_grad(pos, bias, &stations, &ranges);
    close(
        "value",
        v,
        pseudorange_residuals(pos, bias, &stations, &ranges),
        TOL,
    );
    // ∂pos = Σ 2r (pos − s)/|pos − s|, ∂b = Σ 2r
    let (mut ex, mut ey, mut eb) = (0.0, 0.0, 0.0);
    for (s, rho) in stations.iter().zip(&ranges) {
        let d = (pos[0] - s[0]).hypot(pos[1] - s[1]);
        let r = d + bias - rho;
        ex += 2.0 * r * (pos[0] - s[0]) / d;
        ey += 2.0 * r * (pos[1] - s[1]) / d;
        eb += 2.0 * r;
    }
    close("∂x", gp[0], ex, 1e-12);
    close("∂y", gp[1], ey, 1e-12);
    close("∂b", gb, eb, 1e-12);
    let r = gradcheck(
        |p: &([f64; 2], f64)| pseudorange_residuals(p.0, p.1, &stations, &ranges),
        &(pos, bias),
        &(gp, gb),
    );
    assert!(r.passed(), "{r}");
    // ∂²/∂b² = 2·(number of stations)
    let (_, _, (_, hb)) = pseudorange_residuals_hvp(pos, bias, &stations, &ranges, [0.0, 0.0], 1.0);
    close("∂²b", hb, 8.0, TOL);
}

/// A bar of a truss between two nodes, with its stiffness and rest length (data).
#[derive(Clone, Copy)]
struct Bar {
    a: usize,
    b: usize,
    k: f64,
    rest: f64,
}

/// A truss's potential energy: the bars' elastic energy less the work of the loads.
#[differentiate(hessian, wrt(nodes))]
fn truss_energy(nodes: &[[f64; 2]], bars: &[Bar], loads: &[[f64; 2]]) -> f64 {
    let mut e = 0.0;
    for bar in bars {
        let (p, q) = (nodes[bar.a], nodes[bar.b]);
        let len = (q[0] - p[0]).hypot(q[1] - p[1]);
        e += 0.5 * bar.k * (len - bar.rest).powi(2);
    }
    for (n, f) in nodes.iter().zip(loads) {
        e -= n[0] * f[0] + n[1] * f[1];
    }
    e
}

#[test]
fn truss_potential_energy_and_its_stiffness() {
    let nodes = vec![[0.0, 0.0], [1.1, 0.05], [2.0, -0.1], [1.0, 0.9]];
    let bars = vec![
        Bar {
            a: 0,
            b: 1,
            k: 10.0,
            rest: 1.0,
        },
        Bar {
            a: 1,
            b: 2,
            k: 12.0,
            rest: 1.0,
        },
        Bar {
            a: 0,
            b: 3,
            k: 8.0,
            rest: 1.4,
        },
        Bar {
            a: 1,
            b: 3,
            k: 9.0,
            rest: 0.9,
        },
        Bar {
            a: 2,
            b: 3,
            k: 7.0,
            rest: 1.4,
        },
    ];
    let loads = vec![[0.0, 0.0], [0.0, -1.0], [0.5, 0.0], [0.0, -2.0]];
    let (v, g) = truss_energy_grad(&nodes, &bars, &loads);
    close("value", v, truss_energy(&nodes, &bars, &loads), TOL);
    // ∂pₐ = −k (ℓ − L)(q − p)/ℓ per bar, ∂q the opposite, less the load
    let mut e: Vec<[f64; 2]> = loads.iter().map(|f| [-f[0], -f[1]]).collect();
    for bar in &bars {
        let (p, q) = (nodes[bar.a], nodes[bar.b]);
        let len = (q[0] - p[0]).hypot(q[1] - p[1]);
        for c in 0..2 {
            let f = bar.k * (len - bar.rest) * (q[c] - p[c]) / len;
            e[bar.a][c] -= f;
            e[bar.b][c] += f;
        }
    }
    for i in 0..4 {
        close("∂x", g[i][0], e[i][0], 1e-12);
        close("∂y", g[i][1], e[i][1], 1e-12);
    }
    let r = gradcheck(
        |n: &Vec<[f64; 2]>| truss_energy(n, &bars, &loads),
        &nodes,
        &g,
    );
    assert!(r.passed(), "∂nodes: {r}");
    // A rigid translation changes only the work term: H·(1, 0, 1, 0, ..) = 0.
    let dir = vec![[1.0, 0.0]; 4];
    let (_, _, hv) = truss_energy_hvp(&nodes, &bars, &loads, &dir);
    for i in 0..4 {
        close("H·translation x", hv[i][0], 0.0, 1e-12);
        close("H·translation y", hv[i][1], 0.0, 1e-12);
    }
}

// ---------------------------------------------------------------------------------------------
// Statistics.
// ---------------------------------------------------------------------------------------------

/// The negative log marginal likelihood of a Gaussian process with a squared-exponential
/// kernel, through a Cholesky factorisation and a forward substitution written by hand.
#[differentiate(wrt(log_ell, log_sf, log_sn))]
fn gp_nll(log_ell: f64, log_sf: f64, log_sn: f64, x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let (ell, sf2, sn2) = (log_ell.exp(), (2.0 * log_sf).exp(), (2.0 * log_sn).exp());
    let mut k = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..n {
            let d = (x[i] - x[j]) / ell;
            k[i][j] = sf2 * (-0.5 * d * d).exp();
        }
        k[i][i] += sn2;
    }
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = k[i][j];
            for m in 0..j {
                s -= l[i][m] * l[j][m];
            }
            if i == j {
                l[i][i] = s.sqrt();
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    }
    let mut z = vec![0.0; n];
    for i in 0..n {
        let mut s = y[i];
        for m in 0..i {
            s -= l[i][m] * z[m];
        }
        z[i] = s / l[i][i];
    }
    let quad: f64 = z.iter().map(|v| v * v).sum();
    let logdet: f64 = (0..n).map(|i| l[i][i].ln()).sum();
    0.5 * quad + logdet + 0.5 * n as f64 * (2.0 * PI).ln()
}

/// The inverse of a small symmetric positive definite matrix by Gauss–Jordan (test only).
fn inverse(a: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let n = a.len();
    let mut m: Vec<Vec<f64>> = a
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut row = r.clone();
            row.extend((0..n).map(|j| if i == j { 1.0 } else { 0.0 }));
            row
        })
        .collect();
    for c in 0..n {
        let p = m[c][c];
        for v in m[c].iter_mut() {
            *v /= p;
        }
        for r in 0..n {
            if r != c {
                let f = m[r][c];
                let pivot = m[c].clone();
                for (v, q) in m[r].iter_mut().zip(&pivot) {
                    *v -= f * q;
                }
            }
        }
    }
    m.into_iter().map(|r| r[n..].to_vec()).collect()
}

#[test]
fn gaussian_process_likelihood_through_a_hand_written_cholesky() {
    let x = vec![-1.2, -0.5, 0.1, 0.7, 1.5];
    let y: Vec<f64> = x.iter().map(|t| (2.0 * t).sin()).collect();
    let (le, lf, ln) = (-0.2, 0.1, -1.0);
    let (v, (g_ell, g_sf, g_sn)) = gp_nll_grad(le, lf, ln, &x, &y);
    close("value", v, gp_nll(le, lf, ln, &x, &y), TOL);
    // ∂θ = ½ tr((K⁻¹ − ααᵀ) ∂K/∂θ), α = K⁻¹y; ∂K/∂log σₙ = 2σₙ² I, ∂K/∂log σ_f = 2(K − σₙ² I)
    let (ell, sf2, sn2) = (le.exp(), (2.0 * lf).exp(), (2.0 * ln).exp());
    let n = x.len();
    let kf: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| sf2 * (-0.5 * ((x[i] - x[j]) / ell).powi(2)).exp())
                .collect()
        })
        .collect();
    let mut k = kf.clone();
    for i in 0..n {
        k[i][i] += sn2;
    }
    let ki = inverse(&k);
    let alpha: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| ki[i][j] * y[j]).sum())
        .collect();
    let tr = |dk: &dyn Fn(usize, usize) -> f64| -> f64 {
        let mut t = 0.0;
        for i in 0..n {
            for j in 0..n {
                t += (ki[i][j] - alpha[i] * alpha[j]) * dk(j, i);
            }
        }
        0.5 * t
    };
    close(
        "∂log σₙ",
        g_sn,
        tr(&|i, j| if i == j { 2.0 * sn2 } else { 0.0 }),
        1e-10,
    );
    close("∂log σ_f", g_sf, tr(&|i, j| 2.0 * kf[i][j]), 1e-10);
    close(
        "∂log ℓ",
        g_ell,
        tr(&|i, j| kf[i][j] * ((x[i] - x[j]) / ell).powi(2)),
        1e-10,
    );
    fd3(
        "gp_nll",
        |a, b, c| gp_nll(a, b, c, &x, &y),
        (le, lf, ln),
        (g_ell, g_sf, g_sn),
    );
}

/// The log-likelihood of an observation sequence under a hidden Markov model, by the forward
/// algorithm in log space: the emission scores are what the model learns.
#[differentiate(wrt(log_emit))]
fn hmm_log_likelihood(log_emit: &[Vec<f64>], log_trans: &[Vec<f64>], log_init: &[f64]) -> f64 {
    let k = log_init.len();
    let mut alpha: Vec<f64> = (0..k).map(|s| log_init[s] + log_emit[0][s]).collect();
    for t in 1..log_emit.len() {
        let mut next = vec![0.0; k];
        for s in 0..k {
            let m = (0..k)
                .map(|r| alpha[r] + log_trans[r][s])
                .fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = (0..k).map(|r| (alpha[r] + log_trans[r][s] - m).exp()).sum();
            next[s] = m + sum.ln() + log_emit[t][s];
        }
        alpha = next;
    }
    let m = alpha.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + alpha.iter().map(|a| (a - m).exp()).sum::<f64>().ln()
}

#[test]
fn hmm_forward_algorithm_gradient_is_the_posterior() {
    let k = 3;
    let t_len = 5;
    let log_emit: Vec<Vec<f64>> = (0..t_len).map(|t| data(k, 1.7 * t as f64)).collect();
    let trans = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]];
    let log_trans: Vec<Vec<f64>> = trans
        .iter()
        .map(|r| r.iter().map(|p| p.ln()).collect())
        .collect();
    let log_init: Vec<f64> = [0.5, 0.3, 0.2].iter().map(|p: &f64| p.ln()).collect();
    let (v, g) = hmm_log_likelihood_grad(&log_emit, &log_trans, &log_init);
    close(
        "value",
        v,
        hmm_log_likelihood(&log_emit, &log_trans, &log_init),
        TOL,
    );
    // ∂ log p / ∂ log eₜ(s) = γₜ(s), the posterior of state s at t, by forward–backward in
    // probability space.
    let e: Vec<Vec<f64>> = log_emit
        .iter()
        .map(|r| r.iter().map(|v| v.exp()).collect())
        .collect();
    let mut fwd = vec![vec![0.0; k]; t_len];
    for s in 0..k {
        fwd[0][s] = [0.5, 0.3, 0.2][s] * e[0][s];
    }
    for t in 1..t_len {
        for s in 0..k {
            fwd[t][s] = (0..k).map(|r| fwd[t - 1][r] * trans[r][s]).sum::<f64>() * e[t][s];
        }
    }
    let mut bwd = vec![vec![1.0; k]; t_len];
    for t in (0..t_len - 1).rev() {
        for r in 0..k {
            bwd[t][r] = (0..k)
                .map(|s| trans[r][s] * e[t + 1][s] * bwd[t + 1][s])
                .sum();
        }
    }
    let p: f64 = fwd[t_len - 1].iter().sum();
    close("likelihood", v, p.ln(), 1e-12);
    for t in 0..t_len {
        let mut total = 0.0;
        for s in 0..k {
            close("γ", g[t][s], fwd[t][s] * bwd[t][s] / p, 1e-12);
            total += g[t][s];
        }
        close("Σ γ = 1", total, 1.0, 1e-12);
    }
    let r = gradcheck(
        |le: &Vec<Vec<f64>>| hmm_log_likelihood(le, &log_trans, &log_init),
        &log_emit,
        &g,
    );
    assert!(r.passed(), "∂log_emit: {r}");
}

/// Cox's partial likelihood: subjects sorted by time, latest first, so each risk set is a
/// running sum of exp(η) in that order.
#[differentiate(hessian, wrt(beta))]
fn cox_partial_nll(beta: &[f64], x: &[Vec<f64>], times: &[f64], events: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..times.len()).collect();
    order.sort_by(|&a, &b| times[b].partial_cmp(&times[a]).unwrap());
    let mut risk = 0.0;
    let mut nll = 0.0;
    for &i in &order {
        let eta: f64 = x[i].iter().zip(beta).map(|(a, b)| a * b).sum();
        risk += eta.exp();
        if events[i] {
            nll -= eta - risk.ln();
        }
    }
    nll
}

#[test]
fn cox_partial_likelihood_after_sorting_by_time() {
    let times = vec![5.0, 2.0, 9.0, 3.5, 7.0, 1.0];
    let events = vec![true, true, false, true, true, false];
    let x: Vec<Vec<f64>> = (0..6).map(|i| data(2, 2.3 * i as f64)).collect();
    let beta = vec![0.4, -0.7];
    let (v, g) = cox_partial_nll_grad(&beta, &x, &times, &events);
    close("value", v, cox_partial_nll(&beta, &x, &times, &events), TOL);
    // ∂β = −Σ_{events i} (xᵢ − Σ_{tⱼ ≥ tᵢ} wⱼ xⱼ / Σ_{tⱼ ≥ tᵢ} wⱼ), wⱼ = exp(xⱼ·β)
    let w: Vec<f64> = x
        .iter()
        .map(|r| (r[0] * beta[0] + r[1] * beta[1]).exp())
        .collect();
    let mut e = [0.0; 2];
    for i in 0..6 {
        if events[i] {
            let set: Vec<usize> = (0..6).filter(|&j| times[j] >= times[i]).collect();
            let s: f64 = set.iter().map(|&j| w[j]).sum();
            for c in 0..2 {
                let m: f64 = set.iter().map(|&j| w[j] * x[j][c]).sum::<f64>() / s;
                e[c] -= x[i][c] - m;
            }
        }
    }
    close_all("∂β", &g, &e);
    fd_vec("∂β", |b| cox_partial_nll(b, &x, &times, &events), &beta, &g);
    let dir = vec![1.0, 0.5];
    let (_, _, hv) = cox_partial_nll_hvp(&beta, &x, &times, &events, &dir);
    hvp_against_fd(
        "cox",
        |b| cox_partial_nll_grad(b, &x, &times, &events).1,
        &beta,
        &dir,
        &hv,
    );
}

/// The Gaussian negative log-likelihood of returns under GARCH(1, 1): the conditional variance
/// follows σ²ₜ = ω + α r²ₜ₋₁ + β σ²ₜ₋₁ from the sample variance.
#[differentiate(hessian, wrt(omega, alpha, beta))]
fn garch_nll(omega: f64, alpha: f64, beta: f64, r: &[f64]) -> f64 {
    let n = r.len() as f64;
    let mut var = r.iter().map(|x| x * x).sum::<f64>() / n;
    let mut nll = 0.0;
    for t in 1..r.len() {
        var = omega + alpha * r[t - 1] * r[t - 1] + beta * var;
        nll += 0.5 * (var.ln() + r[t] * r[t] / var);
    }
    nll
}

#[test]
fn garch_likelihood() {
    // Returns in percent, as such models are usually fitted (keeps ω away from the
    // finite-difference step).
    let r: Vec<f64> = data(30, 0.9).iter().map(|x| 2.0 * x).collect();
    let (w, a, b) = (0.1, 0.1, 0.85);
    let (v, (gw, ga, gb)) = garch_nll_grad(w, a, b, &r);
    close("value", v, garch_nll(w, a, b, &r), TOL);
    fd3(
        "garch",
        |w, a, b| garch_nll(w, a, b, &r),
        (w, a, b),
        (gw, ga, gb),
    );
    // With α = β = 0 the variance is ω throughout: ∂ω = ½ Σₜ₌₁ (1/ω − rₜ²/ω²)
    let (_, (g0, _, _)) = garch_nll_grad(w, 0.0, 0.0, &r);
    let e: f64 = r[1..]
        .iter()
        .map(|x| 0.5 * (1.0 / w - x * x / (w * w)))
        .sum();
    close("∂ω (α = β = 0)", g0, e, 1e-10);
    let (_, _, (h0, _, _)) = garch_nll_hvp(w, 0.0, 0.0, &r, 1.0, 0.0, 0.0);
    // ∂²ω = ½ Σ (−1/ω² + 2rₜ²/ω³)
    let e: f64 = r[1..]
        .iter()
        .map(|x| 0.5 * (-1.0 / (w * w) + 2.0 * x * x / (w * w * w)))
        .sum();
    close("∂²ω", h0, e, 1e-10);
}

/// A self-exciting (Hawkes) process with an exponential kernel: the log-likelihood of event
/// times on [0, T], each intensity summing the earlier events, an inner loop left by `break`.
#[differentiate(hessian, wrt(mu, alpha, decay))]
fn hawkes_loglik(mu: f64, alpha: f64, decay: f64, times: &[f64], horizon: f64) -> f64 {
    let mut ll = 0.0;
    for (i, &t) in times.iter().enumerate() {
        let mut lambda = mu;
        for j in 0..times.len() {
            if j >= i {
                break;
            }
            lambda += alpha * (-decay * (t - times[j])).exp();
        }
        ll += lambda.ln();
    }
    let mut compensator = mu * horizon;
    for &t in times {
        compensator += alpha / decay * (1.0 - (-decay * (horizon - t)).exp());
    }
    ll - compensator
}

#[test]
fn hawkes_process_likelihood() {
    let times = vec![0.3, 0.9, 1.0, 2.2, 2.5, 2.6, 4.1];
    let (mu, a, d) = (0.8, 0.5, 1.3);
    let (v, (gm, ga, gd)) = hawkes_loglik_grad(mu, a, d, &times, 5.0);
    close("value", v, hawkes_loglik(mu, a, d, &times, 5.0), TOL);
    // ∂μ = Σ 1/λᵢ − T
    let mut e = -5.0;
    for (i, &t) in times.iter().enumerate() {
        let l = mu + (0..i).map(|j| a * (-d * (t - times[j])).exp()).sum::<f64>();
        e += 1.0 / l;
    }
    close("∂μ", gm, e, 1e-12);
    fd3(
        "hawkes",
        |m, a, d| hawkes_loglik(m, a, d, &times, 5.0),
        (mu, a, d),
        (gm, ga, gd),
    );
    let (_, _, (h0, h1, h2)) = hawkes_loglik_hvp(mu, a, d, &times, 5.0, 0.2, -0.4, 1.0);
    let h = 1e-5;
    let gp = hawkes_loglik_grad(mu + 0.2 * h, a - 0.4 * h, d + h, &times, 5.0).1;
    let gm_ = hawkes_loglik_grad(mu - 0.2 * h, a + 0.4 * h, d - h, &times, 5.0).1;
    close("H·v μ", h0, (gp.0 - gm_.0) / (2.0 * h), 1e-6);
    close("H·v α", h1, (gp.1 - gm_.1) / (2.0 * h), 1e-6);
    close("H·v decay", h2, (gp.2 - gm_.2) / (2.0 * h), 1e-6);
}

/// Ordinal regression with a cumulative logit: increasing cut points built from a first cut
/// and positive gaps (`exp`), and P(y = k) = σ(c_k − η) − σ(c_{k−1} − η).
#[differentiate(wrt(w, cuts))]
fn ordinal_nll(w: &[f64], cuts: &[f64], x: &[Vec<f64>], y: &[usize]) -> f64 {
    let mut c = vec![cuts[0]];
    for k in 1..cuts.len() {
        let prev = c[k - 1];
        c.push(prev + cuts[k].exp());
    }
    let mut nll = 0.0;
    for (xi, &yi) in x.iter().zip(y) {
        let eta: f64 = xi.iter().zip(w).map(|(a, b)| a * b).sum();
        let upper = if yi < c.len() {
            1.0 / (1.0 + (eta - c[yi]).exp())
        } else {
            1.0
        };
        let lower = if yi > 0 {
            1.0 / (1.0 + (eta - c[yi - 1]).exp())
        } else {
            0.0
        };
        nll -= (upper - lower).ln();
    }
    nll
}

#[test]
fn ordinal_regression_with_cumulative_logits() {
    let x: Vec<Vec<f64>> = (0..8).map(|i| data(2, 1.1 * i as f64)).collect();
    let y = vec![0, 1, 2, 3, 1, 2, 0, 3];
    let w = vec![0.8, -0.4];
    let cuts = vec![-0.5, -0.3, 0.1];
    let (v, (gw, gc)) = ordinal_nll_grad(&w, &cuts, &x, &y);
    close("value", v, ordinal_nll(&w, &cuts, &x, &y), TOL);
    // ∂w = Σ xᵢ (F′(c_y − η) − F′(c_{y−1} − η)) / (F(c_y − η) − F(c_{y−1} − η)), F′ = F(1 − F)
    let c = [
        cuts[0],
        cuts[0] + cuts[1].exp(),
        cuts[0] + cuts[1].exp() + cuts[2].exp(),
    ];
    let mut e = [0.0; 2];
    for (xi, &yi) in x.iter().zip(&y) {
        let eta = xi[0] * w[0] + xi[1] * w[1];
        let (fu, du) = if yi < 3 {
            let f = sigmoid(c[yi] - eta);
            (f, f * (1.0 - f))
        } else {
            (1.0, 0.0)
        };
        let (fl, dl) = if yi > 0 {
            let f = sigmoid(c[yi - 1] - eta);
            (f, f * (1.0 - f))
        } else {
            (0.0, 0.0)
        };
        for k in 0..2 {
            e[k] += xi[k] * (du - dl) / (fu - fl);
        }
    }
    close_all("∂w", &gw, &e);
    fd_vec2(
        "ordinal",
        |w, c| ordinal_nll(w, c, &x, &y),
        &w,
        &cuts,
        &gw,
        &gc,
    );
}

// ---------------------------------------------------------------------------------------------
// Machine learning.
// ---------------------------------------------------------------------------------------------

/// Softmax cross-entropy with label smoothing: the target puts 1 − ε + ε/K on the label and
/// ε/K elsewhere; the log-sum-exp shifted by the row's maximum.
#[differentiate(hessian, wrt(logits))]
fn smoothed_xent(logits: &[Vec<f64>], labels: &[usize], eps: f64) -> f64 {
    let mut total = 0.0;
    for (row, &y) in logits.iter().zip(labels) {
        let k = row.len() as f64;
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + row.iter().map(|z| (z - m).exp()).sum::<f64>().ln();
        for (c, z) in row.iter().enumerate() {
            let q = if c == y { 1.0 - eps + eps / k } else { eps / k };
            total -= q * (z - lse);
        }
    }
    total / logits.len() as f64
}

#[test]
fn label_smoothed_cross_entropy() {
    let logits: Vec<Vec<f64>> = (0..4).map(|i| data(5, 3.1 * i as f64)).collect();
    let labels = vec![2, 0, 4, 1];
    let eps = 0.1;
    let (v, g) = smoothed_xent_grad(&logits, &labels, eps);
    close("value", v, smoothed_xent(&logits, &labels, eps), TOL);
    // ∂z = (softmax(z) − q)/N; H·v per row = (diag p − p pᵀ) v / N
    let dir: Vec<Vec<f64>> = (0..4).map(|i| data(5, 0.5 + i as f64)).collect();
    let (_, g2, hv) = smoothed_xent_hvp(&logits, &labels, eps, &dir);
    for (i, row) in logits.iter().enumerate() {
        let s: f64 = row.iter().map(|z| z.exp()).sum();
        let p: Vec<f64> = row.iter().map(|z| z.exp() / s).collect();
        let pv: f64 = p.iter().zip(&dir[i]).map(|(a, b)| a * b).sum();
        for c in 0..5 {
            let q = if c == labels[i] {
                1.0 - eps + eps / 5.0
            } else {
                eps / 5.0
            };
            close("∂z", g[i][c], (p[c] - q) / 4.0, 1e-12);
            close("hvp gradient", g2[i][c], g[i][c], TOL);
            close("H·v", hv[i][c], p[c] * (dir[i][c] - pv) / 4.0, 1e-12);
        }
    }
    let r = gradcheck(
        |z: &Vec<Vec<f64>>| smoothed_xent(z, &labels, eps),
        &logits,
        &g,
    );
    assert!(r.passed(), "∂logits: {r}");
}

/// Temperature scaling of a classifier's logits, fitted on held-out labels.
#[differentiate(hessian, wrt(temp))]
fn temperature_nll(temp: f64, logits: &[[f64; 3]], labels: &[usize]) -> f64 {
    let mut nll = 0.0;
    for (z, &y) in logits.iter().zip(labels) {
        let s: f64 = z.iter().map(|v| (v / temp).exp()).sum();
        nll += s.ln() - z[y] / temp;
    }
    nll
}

#[test]
fn temperature_scaling_calibration() {
    let logits: Vec<[f64; 3]> = (0..6)
        .map(|i| {
            let d = data(3, 0.7 * i as f64);
            [3.0 * d[0], 3.0 * d[1], 3.0 * d[2]]
        })
        .collect();
    let labels = vec![0, 1, 2, 2, 1, 0];
    let t = 1.4;
    let (v, g) = temperature_nll_grad(t, &logits, &labels);
    close("value", v, temperature_nll(t, &logits, &labels), TOL);
    // ∂T = Σ (z_y − E_p[z]) / T², p = softmax(z/T)
    let mut e = 0.0;
    for (z, &y) in logits.iter().zip(&labels) {
        let s: f64 = z.iter().map(|v| (v / t).exp()).sum();
        let ez: f64 = z.iter().map(|v| v * (v / t).exp() / s).sum();
        e += (z[y] - ez) / (t * t);
    }
    close("∂T", g, e, 1e-12);
    fd("∂T", |t| temperature_nll(t, &logits, &labels), t, g);
    let (_, _, hv) = temperature_nll_hvp(t, &logits, &labels, 1.0);
    hvp1_against_fd(
        "∂²T",
        |t| temperature_nll_grad(t, &logits, &labels).1,
        t,
        1.0,
        hv,
    );
    // A Newton step from T = 1 lowers the loss where the curvature is positive.
    let (l1, g1, h1) = temperature_nll_hvp(1.0, &logits, &labels, 1.0);
    assert!(h1 > 0.0);
    assert!(temperature_nll(1.0 - g1 / h1, &logits, &labels) < l1);
}

/// A second-order factorization machine: a bias, linear weights, and pairwise interactions
/// through factor rows, by the O(nk) identity ½ Σ_f [(Σᵢ vᵢf xᵢ)² − Σᵢ vᵢf² xᵢ²].
#[differentiate]
fn fm_predict(w0: f64, w: &[f64], v: &[Vec<f64>], x: &[f64]) -> f64 {
    let mut y = w0 + w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>();
    let k = v[0].len();
    for f in 0..k {
        let mut s = 0.0;
        let mut s2 = 0.0;
        for (vi, &xi) in v.iter().zip(x) {
            s += vi[f] * xi;
            s2 += vi[f] * vi[f] * xi * xi;
        }
        y += 0.5 * (s * s - s2);
    }
    y
}

#[differentiate(wrt(w0, w, v))]
fn fm_loss(w0: f64, w: &[f64], v: &[Vec<f64>], xs: &[Vec<f64>], ys: &[f64]) -> f64 {
    xs.iter()
        .zip(ys)
        .map(|(x, &y)| (fm_predict(w0, w, v, x) - y).powi(2))
        .sum()
}

#[test]
fn factorization_machine() {
    let x = vec![0.5, -1.0, 0.0, 2.0];
    let w = data(4, 0.2);
    let v: Vec<Vec<f64>> = (0..4).map(|i| data(3, 1.3 * i as f64)).collect();
    let (y, (g0, gw, gv, gx)) = fm_predict_grad(0.1, &w, &v, &x);
    close("value", y, fm_predict(0.1, &w, &v, &x), TOL);
    // Against the pairwise form Σ_{i<j} ⟨vᵢ, vⱼ⟩ xᵢ xⱼ: ∂vᵢf = xᵢ Σⱼ vⱼf xⱼ − vᵢf xᵢ², ∂w = x
    let mut pair = 0.0;
    for i in 0..4 {
        for j in i + 1..4 {
            pair += (0..3).map(|f| v[i][f] * v[j][f]).sum::<f64>() * x[i] * x[j];
        }
    }
    close(
        "pairwise form",
        y,
        0.1 + (0..4).map(|i| w[i] * x[i]).sum::<f64>() + pair,
        1e-12,
    );
    close("∂w0", g0, 1.0, TOL);
    close_all("∂w", &gw, &x);
    for i in 0..4 {
        for f in 0..3 {
            let s: f64 = (0..4).map(|j| v[j][f] * x[j]).sum();
            close("∂v", gv[i][f], x[i] * s - v[i][f] * x[i] * x[i], 1e-12);
        }
    }
    fd_vec("∂x", |x| fm_predict(0.1, &w, &v, x), &x, &gx);
    let xs: Vec<Vec<f64>> = (0..5).map(|i| data(4, 2.0 * i as f64)).collect();
    let ys = data(5, 9.0);
    let (l, (gb, gw, gv)) = fm_loss_grad(0.1, &w, &v, &xs, &ys);
    close("loss", l, fm_loss(0.1, &w, &v, &xs, &ys), TOL);
    let e: f64 = xs
        .iter()
        .zip(&ys)
        .map(|(x, y)| 2.0 * (fm_predict(0.1, &w, &v, x) - y))
        .sum();
    close("∂w0 of the loss", gb, e, 1e-12);
    let r = gradcheck(
        |p: &(f64, Vec<f64>, Vec<Vec<f64>>)| fm_loss(p.0, &p.1, &p.2, &xs, &ys),
        &(0.1, w.clone(), v.clone()),
        &(gb, gw, gv),
    );
    assert!(r.passed(), "{r}");
}

/// Skip-gram with negative sampling for one centre word: −log σ(u·v⁺) − Σ log σ(−u·v⁻).
#[differentiate(hessian, wrt(center, context))]
fn sgns_loss(center: &[f64], context: &[Vec<f64>], pos: usize, negs: &[usize]) -> f64 {
    let dot = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    let s = dot(center, &context[pos]);
    let mut loss = (1.0 + (-s).exp()).ln();
    for &n in negs {
        let s = dot(center, &context[n]);
        loss += (1.0 + s.exp()).ln();
    }
    loss
}

#[test]
fn skip_gram_negative_sampling() {
    let center = data(4, 0.1);
    let context: Vec<Vec<f64>> = (0..6).map(|i| data(4, 1.9 * i as f64)).collect();
    let (pos, negs) = (2, vec![0, 4, 5]);
    let (v, (gu, gc)) = sgns_loss_grad(&center, &context, pos, &negs);
    close("value", v, sgns_loss(&center, &context, pos, &negs), TOL);
    // ∂u = (σ(u·v⁺) − 1) v⁺ + Σ σ(u·v⁻) v⁻; ∂v⁺ = (σ − 1) u; ∂v⁻ = σ(u·v⁻) u
    let dot = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(x, y)| x * y).sum() };
    let sp = sigmoid(dot(&center, &context[pos]));
    let mut e: Vec<f64> = context[pos].iter().map(|c| (sp - 1.0) * c).collect();
    for &n in &negs {
        let sn = sigmoid(dot(&center, &context[n]));
        for k in 0..4 {
            e[k] += sn * context[n][k];
            close("∂v⁻", gc[n][k], sn * center[k], 1e-12);
        }
    }
    close_all("∂u", &gu, &e);
    for k in 0..4 {
        close("∂v⁺", gc[pos][k], (sp - 1.0) * center[k], 1e-12);
        close("untouched rows", gc[1][k] + gc[3][k], 0.0, TOL);
    }
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<Vec<f64>>)| sgns_loss(&p.0, &p.1, pos, &negs),
        &(center.clone(), context.clone()),
        &(gu.clone(), gc.clone()),
    );
    assert!(r.passed(), "{r}");
    // H along the centre only: Σ σ(1 − σ) (v·d) v over the positive and the negatives
    let d = data(4, 5.5);
    let zero = vec![vec![0.0; 4]; 6];
    let (_, _, (hu, _)) = sgns_loss_hvp(&center, &context, pos, &negs, &d, &zero);
    let mut e = vec![0.0; 4];
    for &j in std::iter::once(&pos).chain(&negs) {
        let s = sigmoid(dot(&center, &context[j]));
        let vd = dot(&context[j], &d);
        for k in 0..4 {
            e[k] += s * (1.0 - s) * vd * context[j][k];
        }
    }
    for k in 0..4 {
        close("H·d", hu[k], e[k], 1e-12);
    }
}

/// TransE's margin loss for one triple and a corrupted tail: max(0, γ + ‖h + r − t‖² −
/// ‖h + r − t′‖²), the entities and relations as rows of embedding tables.
#[differentiate(wrt(ent, rel))]
fn transe_margin(
    ent: &[[f64; 3]],
    rel: &[[f64; 3]],
    triples: &[(usize, usize, usize, usize)],
    margin: f64,
) -> f64 {
    let mut loss = 0.0;
    for &(h, r, t, bad) in triples {
        let mut pos = 0.0;
        let mut neg = 0.0;
        for k in 0..3 {
            let base = ent[h][k] + rel[r][k];
            pos += (base - ent[t][k]).powi(2);
            neg += (base - ent[bad][k]).powi(2);
        }
        loss += (margin + pos - neg).max(0.0);
    }
    loss
}

#[test]
fn transe_margin_loss_over_triples() {
    let ent: Vec<[f64; 3]> = (0..5)
        .map(|i| {
            let d = data(3, 2.2 * i as f64);
            [d[0], d[1], d[2]]
        })
        .collect();
    let rel = vec![[0.1, -0.2, 0.3], [0.4, 0.0, -0.1]];
    let triples = vec![(0, 0, 1, 2), (3, 1, 4, 0), (2, 0, 3, 1)];
    let (v, (ge, gr)) = transe_margin_grad(&ent, &rel, &triples, 1.0);
    close("value", v, transe_margin(&ent, &rel, &triples, 1.0), TOL);
    // Active triples: ∂h = ∂r = 2(t′ − t), ∂t = −2(h + r − t), ∂t′ = 2(h + r − t′)
    let mut ee = vec![[0.0; 3]; 5];
    let mut er = vec![[0.0; 3]; 2];
    for &(h, r, t, bad) in &triples {
        let d: f64 = (0..3)
            .map(|k| {
                (ent[h][k] + rel[r][k] - ent[t][k]).powi(2)
                    - (ent[h][k] + rel[r][k] - ent[bad][k]).powi(2)
            })
            .sum();
        assert!((1.0 + d).abs() > 1e-3, "no triple at the hinge");
        if 1.0 + d > 0.0 {
            for k in 0..3 {
                let b = ent[h][k] + rel[r][k];
                ee[h][k] += 2.0 * (ent[bad][k] - ent[t][k]);
                er[r][k] += 2.0 * (ent[bad][k] - ent[t][k]);
                ee[t][k] -= 2.0 * (b - ent[t][k]);
                ee[bad][k] += 2.0 * (b - ent[bad][k]);
            }
        }
    }
    for i in 0..5 {
        close_all("∂ent", &ge[i], &ee[i]);
    }
    for i in 0..2 {
        close_all("∂rel", &gr[i], &er[i]);
    }
    let r = gradcheck(
        |p: &(Vec<[f64; 3]>, Vec<[f64; 3]>)| transe_margin(&p.0, &p.1, &triples, 1.0),
        &(ent.clone(), rel.clone()),
        &(ge, gr),
    );
    assert!(r.passed(), "{r}");
}

/// REINFORCE's surrogate for a softmax policy over linear features: −Σ Gₜ log π(aₜ | sₜ).
#[differentiate(hessian, wrt(theta))]
fn reinforce_surrogate(
    theta: &[f64],
    feats: &[Vec<Vec<f64>>],
    actions: &[usize],
    returns: &[f64],
) -> f64 {
    let mut loss = 0.0;
    for t in 0..actions.len() {
        let scores: Vec<f64> = feats[t]
            .iter()
            .map(|phi| phi.iter().zip(theta).map(|(a, b)| a * b).sum())
            .collect();
        let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + scores.iter().map(|s| (s - m).exp()).sum::<f64>().ln();
        loss -= returns[t] * (scores[actions[t]] - lse);
    }
    loss
}

#[test]
fn reinforce_policy_gradient() {
    let feats: Vec<Vec<Vec<f64>>> = (0..4)
        .map(|t| (0..3).map(|a| data(2, 3.0 * t as f64 + a as f64)).collect())
        .collect();
    let actions = vec![0, 2, 1, 1];
    let returns = vec![1.0, 0.5, -0.3, 2.0];
    let theta = vec![0.3, -0.6];
    let (v, g) = reinforce_surrogate_grad(&theta, &feats, &actions, &returns);
    close(
        "value",
        v,
        reinforce_surrogate(&theta, &feats, &actions, &returns),
        TOL,
    );
    // ∂θ = −Σ Gₜ (φ(sₜ, aₜ) − E_π φ)
    let mut e = vec![0.0; 2];
    for t in 0..4 {
        let s: Vec<f64> = feats[t]
            .iter()
            .map(|p| p[0] * theta[0] + p[1] * theta[1])
            .collect();
        let z: f64 = s.iter().map(|x| x.exp()).sum();
        for k in 0..2 {
            let mean: f64 = (0..3).map(|a| s[a].exp() / z * feats[t][a][k]).sum();
            e[k] -= returns[t] * (feats[t][actions[t]][k] - mean);
        }
    }
    close_all("∂θ", &g, &e);
    fd_vec(
        "∂θ",
        |th| reinforce_surrogate(th, &feats, &actions, &returns),
        &theta,
        &g,
    );
    let dir = vec![1.0, -1.0];
    let (_, _, hv) = reinforce_surrogate_hvp(&theta, &feats, &actions, &returns, &dir);
    hvp_against_fd(
        "reinforce",
        |th| reinforce_surrogate_grad(th, &feats, &actions, &returns).1,
        &theta,
        &dir,
        &hv,
    );
}

/// A variational autoencoder's loss for one example with a linear decoder and a fixed noise
/// draw: the squared reconstruction error of z = μ + σ ε plus KL(N(μ, σ²) ‖ N(0, 1)).
#[differentiate(hessian, wrt(mu, log_sigma, dec))]
fn vae_loss(mu: &[f64], log_sigma: &[f64], dec: &[Vec<f64>], eps: &[f64], x: &[f64]) -> f64 {
    let z: Vec<f64> = mu
        .iter()
        .zip(log_sigma)
        .zip(eps)
        .map(|((m, s), e)| m + s.exp() * e)
        .collect();
    let mut recon = 0.0;
    for (row, xi) in dec.iter().zip(x) {
        let xhat: f64 = row.iter().zip(&z).map(|(a, b)| a * b).sum();
        recon += (xhat - xi).powi(2);
    }
    let kl: f64 = mu
        .iter()
        .zip(log_sigma)
        .map(|(m, s)| 0.5 * (m * m + (2.0 * s).exp() - 1.0 - 2.0 * s))
        .sum();
    recon + kl
}

#[test]
fn vae_elbo_with_a_fixed_noise_draw() {
    let mu = vec![0.2, -0.5];
    let ls = vec![-0.3, 0.1];
    let dec: Vec<Vec<f64>> = (0..3).map(|i| data(2, 4.0 * i as f64)).collect();
    let eps = vec![0.7, -1.1];
    let x = vec![0.3, -0.2, 0.9];
    let (v, (gm, gs, gd)) = vae_loss_grad(&mu, &ls, &dec, &eps, &x);
    close("value", v, vae_loss(&mu, &ls, &dec, &eps, &x), TOL);
    // r = D z − x; ∂μ = 2Dᵀr + μ; ∂log σ = 2(Dᵀr)∘σ∘ε + σ² − 1; ∂D = 2 r zᵀ
    let z: Vec<f64> = (0..2).map(|k| mu[k] + ls[k].exp() * eps[k]).collect();
    let r: Vec<f64> = (0..3)
        .map(|i| dec[i][0] * z[0] + dec[i][1] * z[1] - x[i])
        .collect();
    for k in 0..2 {
        let dtr: f64 = (0..3).map(|i| dec[i][k] * r[i]).sum();
        close("∂μ", gm[k], 2.0 * dtr + mu[k], 1e-12);
        let s = ls[k].exp();
        close("∂log σ", gs[k], 2.0 * dtr * s * eps[k] + s * s - 1.0, 1e-12);
        for i in 0..3 {
            close("∂D", gd[i][k], 2.0 * r[i] * z[k], 1e-12);
        }
    }
    fd_vec2(
        "vae",
        |m, s| vae_loss(m, s, &dec, &eps, &x),
        &mu,
        &ls,
        &gm,
        &gs,
    );
    // With the decoder held, H along μ is 2DᵀD + I.
    let zero_d = vec![vec![0.0; 2]; 3];
    let (_, _, (hm, _, _)) = vae_loss_hvp(
        &mu,
        &ls,
        &dec,
        &eps,
        &x,
        &vec![1.0, 0.0],
        &vec![0.0, 0.0],
        &zero_d,
    );
    for k in 0..2 {
        let dd: f64 = (0..3).map(|i| 2.0 * dec[i][k] * dec[i][0]).sum();
        close("H·e₀", hm[k], dd + if k == 0 { 1.0 } else { 0.0 }, 1e-12);
    }
}

/// One planar normalizing-flow layer f(z) = z + u·tanh(w·z + b) on a batch, scored under a
/// standard normal base: ½‖f(z)‖² − ln |1 + (1 − tanh²(w·z + b)) u·w|.
#[differentiate(wrt(u, w, b))]
fn planar_flow_nll(u: &[f64], w: &[f64], b: f64, zs: &[Vec<f64>]) -> f64 {
    let uw: f64 = u.iter().zip(w).map(|(a, c)| a * c).sum();
    let mut total = 0.0;
    for z in zs {
        let a = z.iter().zip(w).map(|(x, c)| x * c).sum::<f64>() + b;
        let h = a.tanh();
        let fz: f64 = z.iter().zip(u).map(|(x, ui)| (x + ui * h).powi(2)).sum();
        total += 0.5 * fz - (1.0 + (1.0 - h * h) * uw).abs().ln();
    }
    total
}

#[test]
fn planar_normalizing_flow() {
    let zs: Vec<Vec<f64>> = (0..5).map(|i| data(2, 1.6 * i as f64)).collect();
    let (u, w, b) = (vec![0.3, -0.2], vec![0.8, 0.5], 0.1);
    let (v, (gu, gw, gb)) = planar_flow_nll_grad(&u, &w, b, &zs);
    close("value", v, planar_flow_nll(&u, &w, b, &zs), TOL);
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>, f64)| planar_flow_nll(&p.0, &p.1, p.2, &zs),
        &(u.clone(), w.clone(), b),
        &(gu, gw, gb),
    );
    assert!(r.passed(), "{r}");
    // At u = 0 the flow is the identity: ∂u = Σ (z tanh(a) − (1 − tanh² a) w)
    let zero = vec![0.0, 0.0];
    let (_, (gu0, gw0, gb0)) = planar_flow_nll_grad(&zero, &w, b, &zs);
    let mut e = vec![0.0; 2];
    for z in &zs {
        let h = (z[0] * w[0] + z[1] * w[1] + b).tanh();
        for k in 0..2 {
            e[k] += z[k] * h - (1.0 - h * h) * w[k];
        }
    }
    close_all("∂u at u = 0", &gu0, &e);
    close_all("∂w at u = 0", &gw0, &[0.0, 0.0]);
    close("∂b at u = 0", gb0, 0.0, TOL);
}

/// Soft dynamic time warping between two sequences: the soft minimum of the three
/// predecessors, with a smoothing γ, over a grid with infinite borders.
#[differentiate(wrt(x))]
fn soft_dtw(x: &[f64], y: &[f64], gamma: f64) -> f64 {
    let (n, m) = (x.len(), y.len());
    let mut r = vec![vec![f64::INFINITY; m + 1]; n + 1];
    r[0][0] = 0.0;
    for i in 1..=n {
        for j in 1..=m {
            let cost = (x[i - 1] - y[j - 1]).powi(2);
            let (a, b, c) = (r[i - 1][j - 1], r[i - 1][j], r[i][j - 1]);
            let lo = a.min(b).min(c);
            let s =
                (-(a - lo) / gamma).exp() + (-(b - lo) / gamma).exp() + (-(c - lo) / gamma).exp();
            r[i][j] = cost + lo - gamma * s.ln();
        }
    }
    r[n][m]
}

#[test]
fn soft_dynamic_time_warping() {
    let x = vec![0.0, 0.4, 1.0, 0.8, 0.1];
    let y = vec![0.1, 0.9, 0.7, 0.0];
    let (v, g) = soft_dtw_grad(&x, &y, 0.5);
    close("value", v, soft_dtw(&x, &y, 0.5), TOL);
    fd_vec("∂x", |x| soft_dtw(x, &y, 0.5), &x, &g);
    // Shifting x and y together leaves the value unchanged, so Σ∂x = −Σ∂y; with y held that
    // is the derivative along the shift of y, by the mirrored function.
    let (_, gy) = soft_dtw_grad(&y, &x, 0.5);
    let sx: f64 = g.iter().sum();
    let sy: f64 = gy.iter().sum();
    close("Σ∂x = −Σ∂y", sx, -sy, 1e-10);
    // One element each: (x − y)², ∂x = 2(x − y)
    let (v1, g1) = soft_dtw_grad(&[0.3], &[1.0], 0.5);
    close("1×1", v1, 0.49, 1e-12);
    close("1×1 ∂x", g1[0], -1.4, 1e-12);
}

// ---------------------------------------------------------------------------------------------
// Idioms.
// ---------------------------------------------------------------------------------------------

/// A jump detector over a signal: the previous sample kept in an `Option<f64>` (none before the
/// first), each jump penalised by a pseudo-Huber cost.
#[differentiate]
fn jump_penalty(xs: &[f64], delta: f64) -> f64 {
    let mut prev: Option<f64> = None;
    let mut total = 0.0;
    for &x in xs {
        if let Some(p) = prev {
            let d = x - p;
            total += delta * delta * ((1.0 + (d / delta).powi(2)).sqrt() - 1.0);
        }
        prev = Some(x);
    }
    total
}

#[test]
fn previous_sample_in_an_option() {
    let xs = data(7, 0.4);
    let delta = 0.3;
    let (v, (gx, gd)) = jump_penalty_grad(&xs, delta);
    close("value", v, jump_penalty(&xs, delta), TOL);
    // ∂xᵢ = ψ(xᵢ − xᵢ₋₁) − ψ(xᵢ₊₁ − xᵢ), ψ(d) = d / √(1 + (d/δ)²)
    let psi = |d: f64| d / (1.0 + (d / delta).powi(2)).sqrt();
    for i in 0..7 {
        let mut e = 0.0;
        if i > 0 {
            e += psi(xs[i] - xs[i - 1]);
        }
        if i + 1 < 7 {
            e -= psi(xs[i + 1] - xs[i]);
        }
        close("∂x", gx[i], e, 1e-12);
    }
    fd_vec("∂x", |x| jump_penalty(x, delta), &xs, &gx);
    fd("∂δ", |d| jump_penalty(&xs, d), delta, gd);
}

/// The finite-difference slope between samples `i` and `i + 1`, zero where one is missing:
/// what a helper returning `Option<f64>` through `?` is written as (the `?` operator is an
/// error in a differentiated function).
#[differentiate]
fn slope_at(x: &[f64], y: &[f64], i: usize) -> f64 {
    let Some(&x1) = x.get(i + 1) else { return 0.0 };
    let Some(&y1) = y.get(i + 1) else { return 0.0 };
    let (x0, y0) = (x[i], y[i]);
    (y1 - y0) / (x1 - x0)
}

/// The squared slopes of a piecewise-linear profile, asking past the end too.
#[differentiate]
fn roughness(x: &[f64], y: &[f64]) -> f64 {
    let mut total = 0.0;
    for i in 0..x.len() + 1 {
        let s = slope_at(x, y, i);
        total += s * s;
    }
    total
}

#[test]
fn missing_values_by_let_else_in_a_helper() {
    let x = vec![0.0, 0.5, 1.2, 2.0];
    let y = vec![1.0, 0.2, 0.9, 0.4];
    let (v, (gx, gy)) = roughness_grad(&x, &y);
    close("value", v, roughness(&x, &y), TOL);
    // sᵢ = Δyᵢ/Δxᵢ: ∂yᵢ₊₁ += 2sᵢ/Δxᵢ, ∂yᵢ −= 2sᵢ/Δxᵢ
    let mut e = vec![0.0; 4];
    for i in 0..3 {
        let dx = x[i + 1] - x[i];
        let s = (y[i + 1] - y[i]) / dx;
        e[i + 1] += 2.0 * s / dx;
        e[i] -= 2.0 * s / dx;
    }
    close_all("∂y", &gy, &e);
    fd_vec2("roughness", |a, b| roughness(a, b), &x, &y, &gx, &gy);
}

/// A token of a small stack-machine program.
#[derive(Clone, Copy)]
enum Op {
    Push(usize),
    Add,
    Mul,
    Sin,
}

/// Evaluates a reverse-Polish program over the inputs, then sums what is left on the stack.
#[differentiate(wrt(x))]
fn rpn(x: &[f64], prog: &[Op]) -> f64 {
    let mut stack: Vec<f64> = Vec::new();
    for op in prog {
        match *op {
            Op::Push(i) => stack.push(x[i]),
            Op::Add => {
                let b = stack.pop().unwrap();
                let a = stack.pop().unwrap();
                stack.push(a + b);
            }
            Op::Mul => {
                let b = stack.pop().unwrap();
                let a = stack.pop().unwrap();
                stack.push(a * b);
            }
            Op::Sin => {
                let a = stack.pop().unwrap();
                stack.push(a.sin());
            }
        }
    }
    let mut total = 0.0;
    while let Some(v) = stack.pop() {
        total += v;
    }
    total
}

#[test]
fn stack_machine_with_while_let_pop() {
    use Op::*;
    // x0·sin(x1) + (x2 + x0), and x1 left on the stack
    let prog = vec![
        Push(0),
        Push(1),
        Sin,
        Mul,
        Push(2),
        Push(0),
        Add,
        Add,
        Push(1),
    ];
    let x = vec![0.7, -0.4, 1.3];
    let (v, g) = rpn_grad(&x, &prog);
    close("value", v, rpn(&x, &prog), TOL);
    close(
        "value by hand",
        v,
        x[0] * x[1].sin() + x[2] + x[0] + x[1],
        1e-15,
    );
    close_all("∂x", &g, &[x[1].sin() + 1.0, x[0] * x[1].cos() + 1.0, 1.0]);
    fd_vec("∂x", |x| rpn(x, &prog), &x, &g);
}

/// The first time two particles moving in a line come within `r` of each other: a scan over
/// time steps and pairs that returns the gap at that moment from inside the nested loops.
#[differentiate(wrt(x0, v))]
fn first_contact_gap(x0: &[f64], v: &[f64], r: f64, dt: f64, steps: usize) -> f64 {
    for s in 0..steps {
        let t = s as f64 * dt;
        for i in 0..x0.len() {
            for j in i + 1..x0.len() {
                let gap = (x0[j] + v[j] * t) - (x0[i] + v[i] * t);
                if gap.abs() < r {
                    return gap * t;
                }
            }
        }
    }
    0.0
}

#[test]
fn early_return_from_nested_loops() {
    let x0 = vec![0.0, 2.0, 5.0];
    let v = vec![1.0, -0.5, 0.2];
    let (val, (gx, gv)) = first_contact_gap_grad(&x0, &v, 0.3, 0.1, 100);
    close("value", val, first_contact_gap(&x0, &v, 0.3, 0.1, 100), TOL);
    // Pair (0, 1) closes at rate 1.5 from 2.0: the first step with |gap| < 0.3 is t = 1.2.
    let t = 1.2;
    let gap = 2.0 - 1.5 * t;
    close("value by hand", val, gap * t, 1e-12);
    close_all("∂x0", &gx, &[-t, t, 0.0]);
    close_all("∂v", &gv, &[-t * t, t * t, 0.0]);
    fd_vec2(
        "contact",
        |a, b| first_contact_gap(a, b, 0.3, 0.1, 100),
        &x0,
        &v,
        &gx,
        &gv,
    );
}

/// A dose–response (Hill) curve fitted by least squares, the model kept in a closure.
#[differentiate(hessian, wrt(top, ec50, hill_n))]
fn hill_fit(top: f64, ec50: f64, hill_n: f64, doses: &[f64], resp: &[f64]) -> f64 {
    let model = |c: f64| top * c.powf(hill_n) / (ec50.powf(hill_n) + c.powf(hill_n));
    let mut loss = 0.0;
    for i in 0..doses.len() {
        let r = model(doses[i]) - resp[i];
        loss += r * r;
    }
    loss
}

#[test]
fn dose_response_with_a_closure_in_a_variable() {
    let doses = vec![0.1, 0.3, 1.0, 3.0, 10.0];
    let resp = vec![0.05, 0.2, 0.5, 0.8, 0.95];
    let (t, e50, n) = (1.1, 0.9, 1.2);
    let (v, (gt, ge, gn)) = hill_fit_grad(t, e50, n, &doses, &resp);
    close("value", v, hill_fit(t, e50, n, &doses, &resp), TOL);
    // h = cⁿ/(eⁿ + cⁿ): ∂top = Σ 2r h, ∂e = Σ 2r·(−top·n·eⁿ⁻¹ cⁿ/(eⁿ + cⁿ)²)
    let (mut et, mut ee) = (0.0, 0.0);
    for (c, y) in doses.iter().zip(&resp) {
        let h = c.powf(n) / (e50.powf(n) + c.powf(n));
        let r = t * h - y;
        et += 2.0 * r * h;
        ee +=
            2.0 * r * (-t * n * e50.powf(n - 1.0) * c.powf(n) / (e50.powf(n) + c.powf(n)).powi(2));
    }
    close("∂top", gt, et, 1e-12);
    close("∂ec50", ge, ee, 1e-12);
    fd3(
        "hill",
        |a, b, c| hill_fit(a, b, c, &doses, &resp),
        (t, e50, n),
        (gt, ge, gn),
    );
    // ∂²/∂top² = 2 Σ h²
    let (_, _, (h0, _, _)) = hill_fit_hvp(t, e50, n, &doses, &resp, 1.0, 0.0, 0.0);
    let e: f64 = doses
        .iter()
        .map(|c| 2.0 * (c.powf(n) / (e50.powf(n) + c.powf(n))).powi(2))
        .sum();
    close("∂²top", h0, e, 1e-12);
}

/// Allocation weights as a softmax of free parameters, with methods that call each other.
#[derive(Clone, Debug, Differentiable)]
struct Allocation {
    logits: Vec<f64>,
}

#[differentiate]
impl Allocation {
    fn weights(&self) -> Vec<f64> {
        let m = self
            .logits
            .iter()
            .cloned()
            .fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = self.logits.iter().map(|z| (z - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    }

    fn expected_return(&self, mu: &[f64]) -> f64 {
        self.weights().iter().zip(mu).map(|(w, m)| w * m).sum()
    }

    fn variance(&self, cov: &[Vec<f64>]) -> f64 {
        let w = self.weights();
        let mut v = 0.0;
        for i in 0..w.len() {
            for j in 0..w.len() {
                v += w[i] * cov[i][j] * w[j];
            }
        }
        v
    }

    fn objective(&self, mu: &[f64], cov: &[Vec<f64>], risk_aversion: f64) -> f64 {
        -self.expected_return(mu) + 0.5 * risk_aversion * self.variance(cov)
    }
}

#[test]
fn mean_variance_allocation_with_methods_calling_methods() {
    let mu = vec![0.08, 0.05, 0.11];
    let cov = vec![
        vec![0.04, 0.01, 0.0],
        vec![0.01, 0.02, -0.005],
        vec![0.0, -0.005, 0.09],
    ];
    let a = Allocation {
        logits: vec![0.2, -0.1, 0.4],
    };
    let (v, (g, _, _, gra)) = a.objective_grad(&mu, &cov, 3.0);
    close("value", v, a.objective(&mu, &cov, 3.0), TOL);
    // ∂w = −μ + λΣw; ∂z = (diag w − w wᵀ) ∂w; ∂λ = ½ wᵀΣw
    let w = a.weights();
    let dw: Vec<f64> = (0..3)
        .map(|i| -mu[i] + 3.0 * (0..3).map(|j| cov[i][j] * w[j]).sum::<f64>())
        .collect();
    let wdw: f64 = (0..3).map(|i| w[i] * dw[i]).sum();
    for i in 0..3 {
        close("∂z", g.logits[i], w[i] * (dw[i] - wdw), 1e-12);
    }
    close("∂λ", gra, 0.5 * a.variance(&cov), 1e-12);
    let r = gradcheck(|a: &Allocation| a.objective(&mu, &cov, 3.0), &a, &g);
    assert!(r.passed(), "{r}");
}

/// A 2-D shape of a rigid assembly (data).
#[derive(Clone, Copy)]
enum Shape {
    Disc { r: f64 },
    Rect { w: f64, h: f64 },
    Ring { inner: f64, outer: f64 },
}

/// The polar moment of inertia of an assembly about each part's centre, at a density and a
/// uniform scale of every length.
#[differentiate(wrt(density, scale))]
fn assembly_inertia(shapes: &[Shape], density: f64, scale: f64) -> f64 {
    let mut total = 0.0;
    for s in shapes {
        let i = match *s {
            Shape::Disc { r } => {
                let r = r * scale;
                0.5 * PI * r.powi(4)
            }
            Shape::Rect { w, h } => {
                let (w, h) = (w * scale, h * scale);
                w * h * (w * w + h * h) / 12.0
            }
            Shape::Ring { inner, outer } => {
                0.5 * PI * (outer.powi(4) - inner.powi(4)) * scale.powi(4)
            }
        };
        total += density * i;
    }
    total
}

#[test]
fn inertia_over_an_enum_of_shapes() {
    let shapes = vec![
        Shape::Disc { r: 0.5 },
        Shape::Rect { w: 1.0, h: 0.3 },
        Shape::Ring {
            inner: 0.2,
            outer: 0.4,
        },
    ];
    let (rho, s) = (7.8, 1.3);
    let (v, (gr, gs)) = assembly_inertia_grad(&shapes, rho, s);
    close("value", v, assembly_inertia(&shapes, rho, s), TOL);
    // I = ρ s⁴ C: ∂ρ = I/ρ, ∂s = 4I/s
    close("∂ρ", gr, v / rho, 1e-12);
    close("∂s", gs, 4.0 * v / s, 1e-12);
    fd2(
        "inertia",
        |a, b| assembly_inertia(&shapes, a, b),
        (rho, s),
        (gr, gs),
    );
}

/// The length of a vector, for any float type.
#[differentiate(hessian)]
fn norm<F: Float>(v: &[F]) -> F {
    v.iter().fold(F::zero(), |a, &x| a + x * x).sqrt()
}

/// The von Mises–Fisher log-likelihood's data term κ μ̂·Σx, with the mean direction μ̂ = μ/‖μ‖
/// through the generic helper.
#[differentiate(hessian, wrt(mu, kappa))]
fn vmf_data_term(mu: &[f64], kappa: f64, xs: &[[f64; 3]]) -> f64 {
    let n = norm(mu);
    let mut total = 0.0;
    for x in xs {
        total += (mu[0] * x[0] + mu[1] * x[1] + mu[2] * x[2]) / n;
    }
    kappa * total
}

/// The same over `f32`.
#[differentiate]
fn unit_dot32(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / (norm(a) * norm(b))
}

#[test]
fn von_mises_fisher_direction_through_a_generic_norm() {
    let xs: Vec<[f64; 3]> = (0..5)
        .map(|i| {
            let d = data(3, 1.4 * i as f64);
            let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            [d[0] / n, d[1] / n, d[2] / n]
        })
        .collect();
    let mu = vec![0.5, 0.2, -0.3];
    let (v, (gm, gk)) = vmf_data_term_grad(&mu, 4.0, &xs);
    close("value", v, vmf_data_term(&mu, 4.0, &xs), TOL);
    // s = Σx, n = ‖μ‖, μ̂ = μ/n: ∂μ = κ (s − (μ̂·s) μ̂)/n, ∂κ = μ̂·s
    let s: Vec<f64> = (0..3).map(|k| xs.iter().map(|x| x[k]).sum()).collect();
    let n = (mu[0] * mu[0] + mu[1] * mu[1] + mu[2] * mu[2]).sqrt();
    let ms: f64 = (0..3).map(|k| mu[k] / n * s[k]).sum();
    for k in 0..3 {
        close("∂μ", gm[k], 4.0 * (s[k] - ms * mu[k] / n) / n, 1e-12);
    }
    close("∂κ", gk, ms, 1e-12);
    fd_vec("∂μ", |m| vmf_data_term(m, 4.0, &xs), &mu, &gm);
    // The value is homogeneous of degree 0 in μ, so its gradient of degree −1: by Euler's
    // theorem H·μ = −∇μ, and the mixed term along μ, ∇μ(μ̂·s)·μ, is 0.
    let (_, _, (hm, hk)) = vmf_data_term_hvp(&mu, 4.0, &xs, &mu, 0.0);
    for k in 0..3 {
        close("H·μ", hm[k], -gm[k], 1e-12);
    }
    close("∂²κμ along μ", hk, 0.0, 1e-12);
    let a = vec![0.3f32, -0.4, 0.8];
    let b = vec![0.1f32, 0.9, 0.2];
    let (c, (ga, gb)) = unit_dot32_grad(&a, &b);
    close("f32 value", c as f64, unit_dot32(&a, &b) as f64, 1e-6);
    // ∂a = (b̂ − c â)/‖a‖
    let (na, nb) = (norm(&a), norm(&b));
    for k in 0..3 {
        close(
            "f32 ∂a",
            ga[k] as f64,
            ((b[k] / nb - c * a[k] / na) / na) as f64,
            1e-5,
        );
    }
    let r = gradcheck(
        |p: &(Vec<f32>, Vec<f32>)| unit_dot32(&p.0, &p.1),
        &(a.clone(), b.clone()),
        &(ga, gb),
    );
    assert!(r.passed(), "f32: {r}");
}

/// Discounted returns-to-go computed from the back, `iter().rev().enumerate()` giving each
/// reward's position from the end, and the value estimates fitted to them.
#[differentiate(wrt(values, gamma))]
fn value_regression(values: &[f64], rewards: &[f64], gamma: f64) -> f64 {
    let n = rewards.len();
    let mut ret = vec![0.0; n];
    let mut g = 0.0;
    for (k, &r) in rewards.iter().rev().enumerate() {
        g = r + gamma * g;
        ret[n - 1 - k] = g;
    }
    ret.iter().zip(values).map(|(g, v)| (g - v).powi(2)).sum()
}

#[test]
fn returns_to_go_from_the_back() {
    let rewards = vec![1.0, 0.0, -0.5, 2.0, 0.3];
    let values = vec![2.0, 1.2, 1.0, 2.1, 0.2];
    let gamma = 0.9;
    let (v, (gv, gg)) = value_regression_grad(&values, &rewards, gamma);
    close("value", v, value_regression(&values, &rewards, gamma), TOL);
    // Gₜ = Σ_{s≥t} γ^{s−t} r_s: ∂vₜ = −2(Gₜ − vₜ), ∂γ = Σₜ 2(Gₜ − vₜ) Σ_s (s−t) γ^{s−t−1} r_s
    let mut eg = 0.0;
    for t in 0..5 {
        let g: f64 = (t..5)
            .map(|s| gamma.powi((s - t) as i32) * rewards[s])
            .sum();
        let dg: f64 = (t + 1..5)
            .map(|s| (s - t) as f64 * gamma.powi((s - t - 1) as i32) * rewards[s])
            .sum();
        close("∂v", gv[t], -2.0 * (g - values[t]), 1e-12);
        eg += 2.0 * (g - values[t]) * dg;
    }
    close("∂γ", gg, eg, 1e-12);
    fd("∂γ", |g| value_regression(&values, &rewards, g), gamma, gg);
}

/// A path's bending energy: squared second differences over `windows(3)`.
#[differentiate(hessian)]
fn bending_energy(pts: &[[f64; 2]]) -> f64 {
    pts.windows(3)
        .map(|w| {
            let ax = w[0][0] - 2.0 * w[1][0] + w[2][0];
            let ay = w[0][1] - 2.0 * w[1][1] + w[2][1];
            ax * ax + ay * ay
        })
        .sum()
}

#[test]
fn path_bending_energy_over_windows_of_three() {
    let pts: Vec<[f64; 2]> = (0..6).map(|i| [i as f64, (i as f64 * 0.8).sin()]).collect();
    let (v, g) = bending_energy_grad(&pts);
    close("value", v, bending_energy(&pts), TOL);
    // Each window adds 2aₖ·(1, −2, 1) to its three points
    let mut e = vec![[0.0; 2]; 6];
    for k in 0..4 {
        for c in 0..2 {
            let a = pts[k][c] - 2.0 * pts[k + 1][c] + pts[k + 2][c];
            e[k][c] += 2.0 * a;
            e[k + 1][c] -= 4.0 * a;
            e[k + 2][c] += 2.0 * a;
        }
    }
    for i in 0..6 {
        close("∂x", g[i][0], e[i][0], 1e-12);
        close("∂y", g[i][1], e[i][1], 1e-12);
    }
    let r = gradcheck(|p: &Vec<[f64; 2]>| bending_energy(p), &pts, &g);
    assert!(r.passed(), "{r}");
    // The energy is quadratic: H·v is the gradient of the same energy at v, and straight lines
    // are in its null space.
    let line: Vec<[f64; 2]> = (0..6)
        .map(|i| [0.5 * i as f64, 1.0 - 0.2 * i as f64])
        .collect();
    let (_, _, hv) = bending_energy_hvp(&pts, &line);
    for i in 0..6 {
        close("H·line x", hv[i][0], 0.0, 1e-12);
        close("H·line y", hv[i][1], 0.0, 1e-12);
    }
    let (_, _, hv) = bending_energy_hvp(&pts, &pts);
    for i in 0..6 {
        close("H·x = ∇", hv[i][0], g[i][0], 1e-12);
    }
}

/// A two-phase polyphase split: the even samples by `step_by(2)` against the odd ones by
/// `skip(1).step_by(2)`.
#[differentiate(hessian)]
fn polyphase_mismatch(x: &[f64]) -> f64 {
    let even: f64 = x.iter().step_by(2).map(|v| v * v).sum();
    let odd: f64 = x.iter().skip(1).step_by(2).map(|v| v * v).sum();
    (even - odd).powi(2)
}

/// Average pooling by `chunks_exact(4)` and a squared error against pooled targets.
#[differentiate(hessian, wrt(x))]
fn pooled_mse(x: &[f64], targets: &[f64]) -> f64 {
    x.chunks_exact(4)
        .zip(targets)
        .map(|(c, t)| {
            let m = c.iter().sum::<f64>() / 4.0;
            (m - t) * (m - t)
        })
        .sum()
}

/// A weighted line fit over three zipped slices.
#[differentiate(hessian, wrt(a, b))]
fn weighted_line(a: f64, b: f64, xs: &[f64], ys: &[f64], ws: &[f64]) -> f64 {
    xs.iter()
        .zip(ys)
        .zip(ws)
        .map(|((&x, &y), &w)| w * (a * x + b - y).powi(2))
        .sum()
}

#[test]
fn step_by_chunks_exact_and_three_way_zip() {
    let x = data(8, 0.2);
    let (v, g) = polyphase_mismatch_grad(&x);
    close("value", v, polyphase_mismatch(&x), TOL);
    // d = Σeven² − Σodd²: ∂xᵢ = ±4 d xᵢ
    let d: f64 = x
        .iter()
        .enumerate()
        .map(|(i, v)| if i % 2 == 0 { v * v } else { -v * v })
        .sum();
    for i in 0..8 {
        let s = if i % 2 == 0 { 1.0 } else { -1.0 };
        close("∂x", g[i], 4.0 * d * s * x[i], 1e-12);
    }
    fd_vec("∂x", polyphase_mismatch, &x, &g);
    let dir = data(8, 3.0);
    let (_, _, hv) = polyphase_mismatch_hvp(&x, &dir);
    hvp_against_fd("polyphase", |x| polyphase_mismatch_grad(x).1, &x, &dir, &hv);

    let t = vec![0.1, -0.2];
    let (v, g) = pooled_mse_grad(&x, &t);
    close("value", v, pooled_mse(&x, &t), TOL);
    // ∂xᵢ = 2(m_c − t_c)/4 for i in chunk c
    for i in 0..8 {
        let c = i / 4;
        let m: f64 = x[4 * c..4 * c + 4].iter().sum::<f64>() / 4.0;
        close("∂x", g[i], 0.5 * (m - t[c]), 1e-12);
    }
    let (_, _, hv) = pooled_mse_hvp(&x, &t, &dir);
    for i in 0..8 {
        let c = i / 4;
        let s: f64 = dir[4 * c..4 * c + 4].iter().sum();
        close("H·v", hv[i], s / 8.0, 1e-12);
    }
    fd_vec("∂x pooled", |x| pooled_mse(x, &t), &x, &g);

    let xs = vec![0.0, 1.0, 2.0, 3.0];
    let ys = vec![0.1, 0.9, 2.2, 2.8];
    let ws = vec![1.0, 0.5, 2.0, 1.5];
    let (v, (ga, gb)) = weighted_line_grad(0.9, 0.2, &xs, &ys, &ws);
    close("value", v, weighted_line(0.9, 0.2, &xs, &ys, &ws), TOL);
    // ∂a = Σ 2w r x, ∂b = Σ 2w r; H = 2 [[Σwx², Σwx], [Σwx, Σw]]
    let mut e = (0.0, 0.0);
    for i in 0..4 {
        let r = 0.9 * xs[i] + 0.2 - ys[i];
        e.0 += 2.0 * ws[i] * r * xs[i];
        e.1 += 2.0 * ws[i] * r;
    }
    close2("∂", (ga, gb), e);
    let (_, _, (h0, h1)) = weighted_line_hvp(0.9, 0.2, &xs, &ys, &ws, 1.0, 0.0);
    let swx2: f64 = (0..4).map(|i| ws[i] * xs[i] * xs[i]).sum();
    let swx: f64 = (0..4).map(|i| ws[i] * xs[i]).sum();
    close2("H·e₀", (h0, h1), (2.0 * swx2, 2.0 * swx));
}

/// Conditional value at risk of a portfolio over scenarios: the losses sorted worst first and
/// the worst fraction averaged.
#[differentiate(wrt(w))]
fn cvar(w: &[f64], scenarios: &[Vec<f64>], alpha: f64) -> f64 {
    let mut losses: Vec<f64> = scenarios
        .iter()
        .map(|s| -s.iter().zip(w).map(|(r, wi)| r * wi).sum::<f64>())
        .collect();
    losses.sort_by(|a, b| b.partial_cmp(a).unwrap());
    let k = ((1.0 - alpha) * losses.len() as f64).ceil() as usize;
    losses[..k].iter().sum::<f64>() / k as f64
}

#[test]
fn conditional_value_at_risk_after_sorting() {
    let scenarios: Vec<Vec<f64>> = (0..10).map(|i| data(3, 2.7 * i as f64)).collect();
    let w = vec![0.5, 0.3, 0.2];
    let (v, g) = cvar_grad(&w, &scenarios, 0.75);
    close("value", v, cvar(&w, &scenarios, 0.75), TOL);
    // The worst k = ⌈0.25·10⌉ = 3 scenarios: ∂w = −(1/k) Σ_{worst} s
    let mut idx: Vec<usize> = (0..10).collect();
    let loss = |i: usize| -(0..3).map(|k| scenarios[i][k] * w[k]).sum::<f64>();
    idx.sort_by(|&a, &b| loss(b).partial_cmp(&loss(a)).unwrap());
    for k in 0..3 {
        let e: f64 = -idx[..3].iter().map(|&i| scenarios[i][k]).sum::<f64>() / 3.0;
        close("∂w", g[k], e, 1e-12);
    }
    fd_vec("∂w", |w| cvar(w, &scenarios, 0.75), &w, &g);
}

/// The Kelly criterion's expected log growth, for any float type.
#[differentiate(hessian)]
fn kelly_growth<F: Float>(f: F, probs: &[F], payoffs: &[F]) -> F {
    let mut g = F::zero();
    for (p, r) in probs.iter().zip(payoffs) {
        g = g + *p * (F::one() + f * *r).ln();
    }
    g
}

#[test]
fn kelly_growth_generic_in_f64_and_f32() {
    let probs = vec![0.3, 0.5, 0.2];
    let pay = vec![1.5, -0.4, 0.2];
    let f = 0.4;
    let (v, (gf, gp, gr)) = kelly_growth_grad(f, &probs, &pay);
    close("value", v, kelly_growth(f, &probs, &pay), TOL);
    // ∂f = Σ p r/(1 + f r); ∂²f = −Σ p r²/(1 + f r)²
    let e: f64 = (0..3).map(|i| probs[i] * pay[i] / (1.0 + f * pay[i])).sum();
    close("∂f", gf, e, 1e-12);
    for i in 0..3 {
        close("∂p", gp[i], (1.0 + f * pay[i]).ln(), 1e-12);
        close("∂r", gr[i], probs[i] * f / (1.0 + f * pay[i]), 1e-12);
    }
    let (_, _, (hf, _, _)) = kelly_growth_hvp(f, &probs, &pay, 1.0, &vec![0.0; 3], &vec![0.0; 3]);
    let e2: f64 = -(0..3)
        .map(|i| probs[i] * pay[i] * pay[i] / (1.0 + f * pay[i]).powi(2))
        .sum::<f64>();
    close("∂²f", hf, e2, 1e-12);
    let p32: Vec<f32> = probs.iter().map(|&p| p as f32).collect();
    let r32: Vec<f32> = pay.iter().map(|&p| p as f32).collect();
    let (_, (g32, _, _)) = kelly_growth_grad(0.4f32, &p32, &r32);
    close("f32 ∂f", g32 as f64, e, 1e-6);
    fd32("f32 ∂f", |f| kelly_growth(f, &p32, &r32), 0.4, g32);
}

// ---------------------------------------------------------------------------------------------
// State kept in `Option`s of floats.
// ---------------------------------------------------------------------------------------------

/// A running peak and the drawdown from it, the peak an `Option<f64>` updated by a `match` and
/// read with `unwrap_or`, with `is_some` deciding whether a drawdown exists yet.
#[differentiate(hessian)]
fn max_drawdown_penalty(prices: &[f64], start: usize) -> f64 {
    let mut peak: Option<f64> = None;
    let mut penalty = 0.0;
    for (t, &p) in prices.iter().enumerate() {
        if t < start {
            continue;
        }
        if peak.is_some() {
            let d = peak.unwrap_or(p) - p;
            penalty += d * d;
        }
        peak = Some(match peak {
            Some(m) => m.max(p),
            None => p,
        });
    }
    penalty
}

#[test]
fn running_peak_in_an_option_updated_by_match() {
    let prices = vec![1.0, 1.3, 1.1, 0.9, 1.4, 1.2, 1.25];
    let (v, g) = max_drawdown_penalty_grad(&prices, 1);
    close("value", v, max_drawdown_penalty(&prices, 1), TOL);
    // From t = 1 the peak is 1.3 until t = 4, then 1.4: d = peak − p, ∂peak += 2d, ∂p −= 2d
    let peaks = [(2, 1), (3, 1), (4, 1), (5, 4), (6, 4)];
    let mut e = vec![0.0; 7];
    for &(t, k) in &peaks {
        let d = prices[k] - prices[t];
        e[k] += 2.0 * d;
        e[t] -= 2.0 * d;
    }
    close_all("∂prices", &g, &e);
    fd_vec("∂prices", |p| max_drawdown_penalty(p, 1), &prices, &g);
    // Piecewise quadratic: H·v from the same pairs, 2(v_k − v_t)(e_k − e_t)
    let dir = data(7, 0.3);
    let (_, _, hv) = max_drawdown_penalty_hvp(&prices, 1, &dir);
    let mut eh = vec![0.0; 7];
    for &(t, k) in &peaks {
        let d = dir[k] - dir[t];
        eh[k] += 2.0 * d;
        eh[t] -= 2.0 * d;
    }
    close_all("H·v", &hv, &eh);
}

/// A debounced tracker over `f32` samples: the last accepted value kept in an `Option<f32>`,
/// matched with the `None` arm first, reset to `None` on a large jump.
#[differentiate]
fn tracker_cost(xs: &[f32], gain: f32, reset: f32) -> f32 {
    let mut last: Option<f32> = None;
    let mut cost = 0.0;
    for &x in xs {
        let next = match last {
            None => x,
            Some(l) => l + gain * (x - l),
        };
        cost += (next - x) * (next - x);
        if (next - x).abs() > reset {
            last = None;
        } else {
            last = Some(next);
        }
    }
    cost
}

#[test]
fn an_option_of_f32_reset_to_none() {
    let xs: Vec<f32> = vec![0.0, 0.2, 0.25, 1.5, 1.6, 1.55];
    let (gain, reset) = (0.6f32, 0.3f32);
    let (v, (gx, gg, gr)) = tracker_cost_grad(&xs, gain, reset);
    close(
        "value",
        v as f64,
        tracker_cost(&xs, gain, reset) as f64,
        1e-6,
    );
    close("∂reset", gr as f64, 0.0, 0.0);
    fd32("∂gain", |g| tracker_cost(&xs, g, reset), gain, gg);
    let r = gradcheck(|x: &Vec<f32>| tracker_cost(x, gain, reset), &xs, &gx);
    assert!(r.passed(), "∂xs: {r}");
    // The same computed in f64 by hand: ∂gain = Σ 2(nₜ − xₜ) ∂nₜ/∂gain along the kept chain
    let (mut last, mut dlast): (Option<f64>, f64) = (None, 0.0);
    let mut e = 0.0;
    let g64 = gain as f64;
    for &x in &xs {
        let x = x as f64;
        let (n, dn) = match last {
            None => (x, 0.0),
            Some(l) => (l + g64 * (x - l), dlast * (1.0 - g64) + (x - l)),
        };
        e += 2.0 * (n - x) * dn;
        if (n - x).abs() > reset as f64 {
            last = None;
        } else {
            last = Some(n);
            dlast = dn;
        }
    }
    close("∂gain by hand", gg as f64, e, 1e-5);
}

/// The exponentially smoothed level of a series, the level an `Option<T>` of a generic float
/// started from the first sample, read back in an `if let` that shadows its name.
#[differentiate]
fn smoothed_error<T: Float>(xs: &[T], alpha: T) -> T {
    let mut level: Option<T> = Some(xs[0]);
    let mut err = T::zero();
    for &x in &xs[1..] {
        if let Some(level) = level {
            err = err + (x - level) * (x - level);
        }
        level = Some(alpha * x + (T::one() - alpha) * level.unwrap_or(x));
    }
    err
}

#[test]
fn a_generic_option_shadowed_in_if_let() {
    let xs = vec![1.0, 1.4, 0.9, 1.2, 1.6];
    let alpha = 0.4;
    let (v, (gx, ga)) = smoothed_error_grad(&xs, alpha);
    close("value", v, smoothed_error(&xs, alpha), TOL);
    fd("∂α", |a| smoothed_error(&xs, a), alpha, ga);
    fd_vec("∂x", |x| smoothed_error(x, alpha), &xs, &gx);
    // Two samples: (x₁ − x₀)², ∂α = 0, ∂x₀ = −2(x₁ − x₀)
    let (v2, (g2, ga2)) = smoothed_error_grad(&xs[..2], alpha);
    close("two samples", v2, 0.16, 1e-12);
    close_all("∂x, two samples", &g2, &[-0.8, 0.8]);
    close("∂α, two samples", ga2, 0.0, TOL);
    let x32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
    let (_, (_, ga32)) = smoothed_error_grad(&x32, 0.4f32);
    close("f32 ∂α", ga32 as f64, ga, 1e-5);
}

// ---------------------------------------------------------------------------------------------
// Physics and control.
// ---------------------------------------------------------------------------------------------

/// An Euler–Bernoulli beam on simple supports, discretised by finite differences: the bending
/// energy EI/2 Σ (w'')² h less the work of a distributed load.
#[differentiate(hessian, wrt(w))]
fn beam_energy(w: &[f64], ei: f64, load: &[f64], h: f64) -> f64 {
    let n = w.len();
    let at = |i: isize| -> f64 {
        if i < 0 || i >= n as isize {
            0.0
        } else {
            w[i as usize]
        }
    };
    let mut e = 0.0;
    for i in 0..n as isize {
        let curv = (at(i - 1) - 2.0 * at(i) + at(i + 1)) / (h * h);
        e += 0.5 * ei * curv * curv * h;
    }
    for i in 0..n {
        e -= load[i] * w[i] * h;
    }
    e
}

#[test]
fn euler_bernoulli_beam_energy_and_stiffness() {
    let n = 6;
    let h = 0.2;
    let w: Vec<f64> = (0..n)
        .map(|i| -0.01 * ((i + 1) as f64 * 0.5).sin())
        .collect();
    let load = vec![1.0; n];
    let (v, g) = beam_energy_grad(&w, 2.0, &load, h);
    close("value", v, beam_energy(&w, 2.0, &load, h), TOL);
    // With D the second-difference operator (zero outside): ∇ = EI h⁻³ DᵀD w − h q, H = EI h⁻³ DᵀD
    let apply = |x: &[f64]| -> Vec<f64> {
        let at = |i: isize| {
            if i < 0 || i >= n as isize {
                0.0
            } else {
                x[i as usize]
            }
        };
        let d: Vec<f64> = (0..n as isize)
            .map(|i| at(i - 1) - 2.0 * at(i) + at(i + 1))
            .collect();
        let dt = |i: isize| {
            if i < 0 || i >= n as isize {
                0.0
            } else {
                d[i as usize]
            }
        };
        (0..n as isize)
            .map(|i| 2.0 * (dt(i - 1) - 2.0 * dt(i) + dt(i + 1)) / h.powi(3))
            .collect()
    };
    let kw = apply(&w);
    for i in 0..n {
        close("∂w", g[i], kw[i] - h * load[i], 1e-10);
    }
    fd_vec("∂w", |w| beam_energy(w, 2.0, &load, h), &w, &g);
    let dir = data(n, 1.0);
    let (_, _, hv) = beam_energy_hvp(&w, 2.0, &load, h, &dir);
    let kd = apply(&dir);
    for i in 0..n {
        close("H·v", hv[i], kd[i], 1e-10);
    }
}

/// A discrete-time linear system driven by a control sequence, with a quadratic cost on
/// states and controls (an LQR objective evaluated by rollout).
#[differentiate(hessian, wrt(u))]
fn lqr_cost(u: &[f64], x0: [f64; 2], a: [[f64; 2]; 2], b: [f64; 2], q: f64, r: f64) -> f64 {
    let mut x = x0;
    let mut cost = 0.0;
    for &ut in u {
        cost += q * (x[0] * x[0] + x[1] * x[1]) + r * ut * ut;
        x = [
            a[0][0] * x[0] + a[0][1] * x[1] + b[0] * ut,
            a[1][0] * x[0] + a[1][1] * x[1] + b[1] * ut,
        ];
    }
    cost + q * (x[0] * x[0] + x[1] * x[1])
}

#[test]
fn lqr_rollout_cost_against_the_costate_recursion() {
    let a = [[1.0, 0.1], [-0.2, 0.95]];
    let b = [0.0, 0.1];
    let x0 = [1.0, 0.0];
    let u = data(8, 0.5);
    let (q, r) = (1.0, 0.1);
    let (v, g) = lqr_cost_grad(&u, x0, a, b, q, r);
    close("value", v, lqr_cost(&u, x0, a, b, q, r), TOL);
    // Costates λ_T = 2q x_T, λ_t = 2q x_t + Aᵀ λ_{t+1}; ∂u_t = 2r u_t + bᵀ λ_{t+1}
    let mut xs = vec![x0];
    for &ut in &u {
        let x = *xs.last().unwrap();
        xs.push([
            a[0][0] * x[0] + a[0][1] * x[1] + b[0] * ut,
            a[1][0] * x[0] + a[1][1] * x[1] + b[1] * ut,
        ]);
    }
    let mut lam = [2.0 * q * xs[8][0], 2.0 * q * xs[8][1]];
    let mut e = vec![0.0; 8];
    for t in (0..8).rev() {
        e[t] = 2.0 * r * u[t] + b[0] * lam[0] + b[1] * lam[1];
        lam = [
            2.0 * q * xs[t][0] + a[0][0] * lam[0] + a[1][0] * lam[1],
            2.0 * q * xs[t][1] + a[0][1] * lam[0] + a[1][1] * lam[1],
        ];
    }
    close_all("∂u", &g, &e);
    fd_vec("∂u", |u| lqr_cost(u, x0, a, b, q, r), &u, &g);
    // The cost is quadratic in u: H·v is the gradient's change, ∇(u + v) − ∇(u)
    let dir = data(8, 2.0);
    let (_, _, hv) = lqr_cost_hvp(&u, x0, a, b, q, r, &dir);
    let up: Vec<f64> = u.iter().zip(&dir).map(|(a, b)| a + b).collect();
    let (_, gp) = lqr_cost_grad(&up, x0, a, b, q, r);
    for t in 0..8 {
        close("H·v", hv[t], gp[t] - g[t], 1e-10);
    }
}

/// A PI controller on a first-order plant ẋ = −a x + u, simulated by Euler steps; the cost is
/// the integrated squared tracking error.
#[differentiate(hessian, wrt(kp, ki))]
fn pi_tracking_cost(kp: f64, ki: f64, plant_a: f64, setpoint: f64, dt: f64, steps: usize) -> f64 {
    let (mut x, mut integral, mut cost) = (0.0, 0.0, 0.0);
    for _ in 0..steps {
        let err = setpoint - x;
        integral += err * dt;
        let u = kp * err + ki * integral;
        x += dt * (-plant_a * x + u);
        cost += (setpoint - x).powi(2) * dt;
    }
    cost
}

#[test]
fn pi_controller_tuning_cost() {
    let (kp, ki) = (2.0, 0.5);
    let (v, (gp, gi)) = pi_tracking_cost_grad(kp, ki, 1.0, 1.0, 0.05, 60);
    close(
        "value",
        v,
        pi_tracking_cost(kp, ki, 1.0, 1.0, 0.05, 60),
        TOL,
    );
    fd2(
        "pi",
        |p, i| pi_tracking_cost(p, i, 1.0, 1.0, 0.05, 60),
        (kp, ki),
        (gp, gi),
    );
    // One step from rest: x₁ = dt(kp + ki dt) r, cost = (r − x₁)² dt,
    // ∂kp = −2(r − x₁) dt · dt r, ∂ki = −2(r − x₁) dt · dt² r
    let dt = 0.05;
    let x1 = dt * (kp + ki * dt);
    let (_, (g1p, g1i)) = pi_tracking_cost_grad(kp, ki, 1.0, 1.0, dt, 1);
    close2(
        "one step",
        (g1p, g1i),
        (
            -2.0 * (1.0 - x1) * dt * dt,
            -2.0 * (1.0 - x1) * dt * dt * dt,
        ),
    );
    let (_, _, (hp, hi)) = pi_tracking_cost_hvp(kp, ki, 1.0, 1.0, dt, 1, 1.0, 0.0);
    close2(
        "one step H·e₀",
        (hp, hi),
        (2.0 * dt.powi(3), 2.0 * dt.powi(4)),
    );
}

/// An SIR epidemic by Euler steps; the loss compares the infected fraction with observations.
#[differentiate(wrt(beta, gamma))]
fn sir_fit(beta: f64, gamma: f64, i0: f64, observed: &[f64], dt: f64) -> f64 {
    let (mut s, mut i) = (1.0 - i0, i0);
    let mut loss = 0.0;
    for &obs in observed {
        let infections = beta * s * i * dt;
        let recoveries = gamma * i * dt;
        s -= infections;
        i += infections - recoveries;
        loss += (i - obs).powi(2);
    }
    loss
}

#[test]
fn sir_epidemic_fit() {
    let observed: Vec<f64> = (1..=20)
        .map(|t| 0.01 * (0.15 * t as f64).exp().min(20.0))
        .collect();
    let (b, g) = (0.4, 0.1);
    let (v, (gb, gg)) = sir_fit_grad(b, g, 0.01, &observed, 0.5);
    close("value", v, sir_fit(b, g, 0.01, &observed, 0.5), TOL);
    fd2(
        "sir",
        |b, g| sir_fit(b, g, 0.01, &observed, 0.5),
        (b, g),
        (gb, gg),
    );
    // With β = 0, iₙ = i₀(1 − γ dt)ⁿ: ∂γ = Σ 2(iₙ − oₙ)·(−n dt i₀ (1 − γ dt)ⁿ⁻¹)
    let (_, (_, g0)) = sir_fit_grad(0.0, g, 0.01, &observed, 0.5);
    let e: f64 = (1..=20)
        .map(|n| {
            let k = 1.0 - g * 0.5;
            let i = 0.01 * k.powi(n);
            2.0 * (i - observed[n as usize - 1]) * (-(n as f64) * 0.5 * 0.01 * k.powi(n - 1))
        })
        .sum();
    close("∂γ at β = 0", g0, e, 1e-12);
}

/// A one-compartment model with first-order absorption after an oral dose, fitted to
/// concentrations on a log scale.
#[differentiate(hessian, wrt(ka, ke, vol))]
fn pk_fit(ka: f64, ke: f64, vol: f64, dose: f64, times: &[f64], conc: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (&t, &c) in times.iter().zip(conc) {
        let pred = dose * ka / (vol * (ka - ke)) * ((-ke * t).exp() - (-ka * t).exp());
        loss += (pred.ln() - c.ln()).powi(2);
    }
    loss
}

#[test]
fn pharmacokinetic_one_compartment_fit() {
    let times = vec![0.5, 1.0, 2.0, 4.0, 8.0, 12.0];
    let conc = vec![2.1, 3.2, 3.6, 2.9, 1.6, 0.8];
    let (ka, ke, vol) = (1.2, 0.15, 20.0);
    let (v, (gka, gke, gv)) = pk_fit_grad(ka, ke, vol, 100.0, &times, &conc);
    close("value", v, pk_fit(ka, ke, vol, 100.0, &times, &conc), TOL);
    // ln pred = −ln V + ..: ∂V = Σ 2(ln pred − ln c)·(−1/V)
    let e: f64 = times
        .iter()
        .zip(&conc)
        .map(|(&t, &c)| {
            let p = 100.0 * ka / (vol * (ka - ke)) * ((-ke * t).exp() - (-ka * t).exp());
            -2.0 * (p.ln() - c.ln()) / vol
        })
        .sum();
    close("∂V", gv, e, 1e-12);
    fd3(
        "pk",
        |a, b, c| pk_fit(a, b, c, 100.0, &times, &conc),
        (ka, ke, vol),
        (gka, gke, gv),
    );
    // ∂²/∂(ln V)-direction: along V alone, ∂²V = Σ 2(1 + ln pred − ln c)/V²
    let (_, _, (_, _, hv)) = pk_fit_hvp(ka, ke, vol, 100.0, &times, &conc, 0.0, 0.0, 1.0);
    let e: f64 = times
        .iter()
        .zip(&conc)
        .map(|(&t, &c)| {
            let p = 100.0 * ka / (vol * (ka - ke)) * ((-ke * t).exp() - (-ka * t).exp());
            2.0 * (1.0 + p.ln() - c.ln()) / (vol * vol)
        })
        .sum();
    close("∂²V", hv, e, 1e-12);
}

/// The impedance magnitude of a series RLC circuit over frequencies, fitted in log scale.
#[differentiate(hessian, wrt(r, l, c))]
fn rlc_fit(r: f64, l: f64, c: f64, omegas: &[f64], mags: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (&w, &m) in omegas.iter().zip(mags) {
        let x = w * l - 1.0 / (w * c);
        let z = (r * r + x * x).sqrt();
        loss += (z.ln() - m.ln()).powi(2);
    }
    loss
}

#[test]
fn rlc_impedance_fit() {
    let omegas = vec![100.0, 300.0, 1000.0, 3000.0, 10000.0];
    let mags = vec![105.0, 35.0, 12.0, 25.0, 90.0];
    let (r, l, c) = (10.0, 0.01, 1e-4);
    let (v, (gr, gl, gc)) = rlc_fit_grad(r, l, c, &omegas, &mags);
    close("value", v, rlc_fit(r, l, c, &omegas, &mags), TOL);
    // ∂r = Σ 2(ln|Z| − ln m)·r/|Z|², ∂L = Σ 2(..)·X ω/|Z|², ∂C = Σ 2(..)·X/(ω C²)/|Z|²
    let (mut er, mut el, mut ec) = (0.0, 0.0, 0.0);
    for (&w, &m) in omegas.iter().zip(&mags) {
        let x = w * l - 1.0 / (w * c);
        let z2 = r * r + x * x;
        let d = 2.0 * (0.5 * z2.ln() - m.ln()) / z2;
        er += d * r;
        el += d * x * w;
        ec += d * x / (w * c * c);
    }
    close("∂R", gr, er, 1e-12);
    close("∂L", gl, el, 1e-12);
    close("∂C", gc, ec, 1e-12);
    fd("∂R", |r| rlc_fit(r, l, c, &omegas, &mags), r, gr);
    fd("∂L", |l| rlc_fit(r, l, c, &omegas, &mags), l, gl);
    let (_, _, (hr, _, _)) = rlc_fit_hvp(r, l, c, &omegas, &mags, 1.0, 0.0, 0.0);
    let h = 1e-5;
    let e = (rlc_fit_grad(r + h, l, c, &omegas, &mags).1.0
        - rlc_fit_grad(r - h, l, c, &omegas, &mags).1.0)
        / (2.0 * h);
    close("∂²R", hr, e, 1e-6);
}

/// Fermat's principle for light crossing an interface: the travel time through the crossing
/// point `x`, minimised by Newton's method on the `_hvp` curvature.
#[differentiate(hessian, wrt(x))]
fn travel_time(x: f64, a: f64, b: f64, d: f64, v1: f64, v2: f64) -> f64 {
    (a * a + x * x).sqrt() / v1 + (b * b + (d - x) * (d - x)).sqrt() / v2
}

#[test]
fn fermat_principle_gives_snells_law() {
    let (a, b, d, v1, v2) = (1.0, 1.5, 2.0, 1.0, 0.75);
    let x = 0.8;
    let (t, g) = travel_time_grad(x, a, b, d, v1, v2);
    close("value", t, travel_time(x, a, b, d, v1, v2), TOL);
    // ∂x = x/(v₁ r₁) − (d − x)/(v₂ r₂); ∂²x = a²/(v₁ r₁³) + b²/(v₂ r₂³)
    let (r1, r2) = ((a * a + x * x).sqrt(), (b * b + (d - x) * (d - x)).sqrt());
    close("∂x", g, x / (v1 * r1) - (d - x) / (v2 * r2), 1e-12);
    let (_, _, h) = travel_time_hvp(x, a, b, d, v1, v2, 1.0);
    close(
        "∂²x",
        h,
        a * a / (v1 * r1.powi(3)) + b * b / (v2 * r2.powi(3)),
        1e-12,
    );
    fd("∂x", |x| travel_time(x, a, b, d, v1, v2), x, g);
    // Newton's method finds the crossing where sin θ₁ / v₁ = sin θ₂ / v₂.
    let mut x = 1.0;
    for _ in 0..30 {
        let (_, g, h) = travel_time_hvp(x, a, b, d, v1, v2, 1.0);
        x -= g / h;
    }
    let (s1, s2) = (
        x / (a * a + x * x).sqrt(),
        (d - x) / (b * b + (d - x) * (d - x)).sqrt(),
    );
    close("Snell", s1 / v1, s2 / v2, 1e-10);
}

// ---------------------------------------------------------------------------------------------
// Finance and curve fitting.
// ---------------------------------------------------------------------------------------------

/// The Nelson–Siegel yield curve fitted to observed yields at maturities.
#[differentiate(hessian, wrt(b0, b1, b2, lambda))]
fn nelson_siegel_fit(b0: f64, b1: f64, b2: f64, lambda: f64, tau: &[f64], yields: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (&t, &y) in tau.iter().zip(yields) {
        let k = t / lambda;
        let f1 = (1.0 - (-k).exp()) / k;
        let f2 = f1 - (-k).exp();
        loss += (b0 + b1 * f1 + b2 * f2 - y).powi(2);
    }
    loss
}

#[test]
fn nelson_siegel_yield_curve() {
    let tau = vec![0.25, 1.0, 2.0, 5.0, 10.0, 30.0];
    let yields = vec![0.010, 0.014, 0.018, 0.024, 0.029, 0.031];
    let (b0, b1, b2, lam) = (0.03, -0.02, 0.01, 2.0);
    let (v, (g0, g1, g2, gl)) = nelson_siegel_fit_grad(b0, b1, b2, lam, &tau, &yields);
    close(
        "value",
        v,
        nelson_siegel_fit(b0, b1, b2, lam, &tau, &yields),
        TOL,
    );
    // Linear in β: ∂β₀ = Σ 2r, ∂β₁ = Σ 2r f₁, ∂β₂ = Σ 2r f₂; ∂²β₀ = 2n
    let (mut e0, mut e1, mut e2) = (0.0, 0.0, 0.0);
    for (&t, &y) in tau.iter().zip(&yields) {
        let k = t / lam;
        let f1 = (1.0 - (-k).exp()) / k;
        let f2 = f1 - (-k).exp();
        let r = b0 + b1 * f1 + b2 * f2 - y;
        e0 += 2.0 * r;
        e1 += 2.0 * r * f1;
        e2 += 2.0 * r * f2;
    }
    close("∂β₀", g0, e0, 1e-12);
    close("∂β₁", g1, e1, 1e-12);
    close("∂β₂", g2, e2, 1e-12);
    fd(
        "∂λ",
        |l| nelson_siegel_fit(b0, b1, b2, l, &tau, &yields),
        lam,
        gl,
    );
    let (_, _, (h0, _, _, _)) =
        nelson_siegel_fit_hvp(b0, b1, b2, lam, &tau, &yields, 1.0, 0.0, 0.0, 0.0);
    close("∂²β₀", h0, 12.0, 1e-12);
}

/// The Arrhenius law fitted to rate constants on a log scale: ln k = ln A − Eₐ/(R T).
#[differentiate(hessian, wrt(ln_a, ea))]
fn arrhenius_fit(ln_a: f64, ea: f64, temps: &[f64], rates: &[f64]) -> f64 {
    const R: f64 = 8.314;
    temps
        .iter()
        .zip(rates)
        .map(|(&t, &k)| (ln_a - ea / (R * t) - k.ln()).powi(2))
        .sum()
}

#[test]
fn arrhenius_rate_law_fit() {
    let temps = vec![300.0, 320.0, 340.0, 360.0, 380.0];
    let rates: Vec<f64> = temps
        .iter()
        .map(|t| 1e7 * (-50000.0 / (8.314 * t)).exp() * (1.0 + 0.01 * t.sin()))
        .collect();
    let (la, ea) = (15.0, 48000.0);
    let (v, (ga, ge)) = arrhenius_fit_grad(la, ea, &temps, &rates);
    close("value", v, arrhenius_fit(la, ea, &temps, &rates), TOL);
    // r = ln A − Eₐ/(RT) − ln k: ∂ln A = Σ 2r, ∂Eₐ = −Σ 2r/(RT); H = 2 Σ [1, −u; −u, u²], u = 1/(RT)
    let (mut ea_, mut ee, mut hu, mut huu) = (0.0, 0.0, 0.0, 0.0);
    for (&t, &k) in temps.iter().zip(&rates) {
        let u = 1.0 / (8.314 * t);
        let r = la - ea * u - k.ln();
        ea_ += 2.0 * r;
        ee -= 2.0 * r * u;
        hu += u;
        huu += u * u;
    }
    close2("∂", (ga, ge), (ea_, ee));
    let (_, _, (h0, h1)) = arrhenius_fit_hvp(la, ea, &temps, &rates, 0.0, 1.0);
    close2("H·e₁", (h0, h1), (-2.0 * hu, 2.0 * huu));
    fd2(
        "arrhenius",
        |a, e| arrhenius_fit(a, e, &temps, &rates),
        (la, ea),
        (ga, ge),
    );
}

/// Bradley–Terry ratings from pairwise results (winner, loser), with a small ridge.
#[differentiate(hessian, wrt(s))]
fn bradley_terry_nll(s: &[f64], games: &[(usize, usize)], ridge: f64) -> f64 {
    let mut nll = 0.0;
    for &(w, l) in games {
        nll += (1.0 + (s[l] - s[w]).exp()).ln();
    }
    nll + ridge * s.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn bradley_terry_ratings() {
    let games = vec![(0, 1), (1, 2), (0, 2), (2, 3), (3, 1), (0, 3), (1, 0)];
    let s = vec![0.5, 0.1, -0.2, 0.0];
    let (v, g) = bradley_terry_nll_grad(&s, &games, 0.05);
    close("value", v, bradley_terry_nll(&s, &games, 0.05), TOL);
    // p = σ(s_w − s_l): ∂s_w −= 1 − p, ∂s_l += 1 − p; H: p(1 − p)(e_w − e_l)(e_w − e_l)ᵀ + 2λ I
    let dir = vec![1.0, -0.5, 0.3, 0.2];
    let mut e: Vec<f64> = s.iter().map(|v| 0.1 * v).collect();
    let mut eh: Vec<f64> = dir.iter().map(|v| 0.1 * v).collect();
    for &(w, l) in &games {
        let p = sigmoid(s[w] - s[l]);
        e[w] -= 1.0 - p;
        e[l] += 1.0 - p;
        let c = p * (1.0 - p) * (dir[w] - dir[l]);
        eh[w] += c;
        eh[l] -= c;
    }
    close_all("∂s", &g, &e);
    let (_, _, hv) = bradley_terry_nll_hvp(&s, &games, 0.05, &dir);
    close_all("H·v", &hv, &eh);
    fd_vec("∂s", |s| bradley_terry_nll(s, &games, 0.05), &s, &g);
}

// ---------------------------------------------------------------------------------------------
// More models.
// ---------------------------------------------------------------------------------------------

/// A one-dimensional mixture density network's output layer: the negative log-likelihood of a
/// target under a mixture with softmax weights, means and log-scales.
#[differentiate(hessian)]
fn mdn_nll(logits: &[f64], means: &[f64], log_sigmas: &[f64], y: f64) -> f64 {
    let k = logits.len();
    let m = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse_w = m + logits.iter().map(|z| (z - m).exp()).sum::<f64>().ln();
    let comps: Vec<f64> = (0..k)
        .map(|j| {
            let z = (y - means[j]) / log_sigmas[j].exp();
            logits[j] - lse_w - log_sigmas[j] - 0.5 * z * z - 0.5 * (2.0 * PI).ln()
        })
        .collect();
    let mc = comps.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    -(mc + comps.iter().map(|c| (c - mc).exp()).sum::<f64>().ln())
}

#[test]
fn mixture_density_network_likelihood() {
    let logits = vec![0.2, -0.5, 0.9];
    let means = vec![-1.0, 0.3, 1.2];
    let ls = vec![-0.2, 0.1, -0.5];
    let y = 0.5;
    let (v, (gl, gm, gs, gy)) = mdn_nll_grad(&logits, &means, &ls, y);
    close("value", v, mdn_nll(&logits, &means, &ls, y), TOL);
    // γⱼ the responsibilities: ∂μⱼ = −γⱼ (y − μⱼ)/σⱼ², ∂zⱼ = πⱼ − γⱼ, ∂y = Σ γⱼ (y − μⱼ)/σⱼ²
    let s: f64 = logits.iter().map(|z| z.exp()).sum();
    let pi: Vec<f64> = logits.iter().map(|z| z.exp() / s).collect();
    let dens: Vec<f64> = (0..3)
        .map(|j| {
            let sg = ls[j].exp();
            pi[j] * (-0.5 * ((y - means[j]) / sg).powi(2)).exp() / (sg * (2.0 * PI).sqrt())
        })
        .collect();
    let tot: f64 = dens.iter().sum();
    let mut ey = 0.0;
    for j in 0..3 {
        let gam = dens[j] / tot;
        let s2 = (2.0 * ls[j]).exp();
        close("∂μ", gm[j], -gam * (y - means[j]) / s2, 1e-12);
        close("∂z", gl[j], pi[j] - gam, 1e-12);
        close(
            "∂log σ",
            gs[j],
            gam * (1.0 - (y - means[j]).powi(2) / s2),
            1e-12,
        );
        ey += gam * (y - means[j]) / s2;
    }
    close("∂y", gy, ey, 1e-12);
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>, Vec<f64>)| mdn_nll(&p.0, &p.1, &p.2, y),
        &(logits.clone(), means.clone(), ls.clone()),
        &(gl.clone(), gm.clone(), gs.clone()),
    );
    assert!(r.passed(), "{r}");
    let (_, _, (_, _, _, hy)) = mdn_nll_hvp(
        &logits,
        &means,
        &ls,
        y,
        &vec![0.0; 3],
        &vec![0.0; 3],
        &vec![0.0; 3],
        1.0,
    );
    hvp1_against_fd(
        "∂²y",
        |y| mdn_nll_grad(&logits, &means, &ls, y).1.3,
        y,
        1.0,
        hy,
    );
}

/// A zero-inflated Poisson likelihood: a structural zero with probability π = σ(ζ), otherwise
/// Poisson with rate exp(η); the log-factorial is constant in the parameters and left out.
#[differentiate(hessian, wrt(zeta, eta))]
fn zip_nll(zeta: f64, eta: f64, counts: &[u32]) -> f64 {
    let pi = 1.0 / (1.0 + (-zeta).exp());
    let lambda = eta.exp();
    let mut nll = 0.0;
    for &c in counts {
        if c == 0 {
            nll -= (pi + (1.0 - pi) * (-lambda).exp()).ln();
        } else {
            nll -= (1.0 - pi).ln() - lambda + c as f64 * eta;
        }
    }
    nll
}

#[test]
fn zero_inflated_poisson() {
    let counts = vec![0, 0, 3, 1, 0, 2, 5, 0, 1, 0];
    let (z, e) = (-0.4, 0.6);
    let (v, (gz, ge)) = zip_nll_grad(z, e, &counts);
    close("value", v, zip_nll(z, e, &counts), TOL);
    // Zeros: p₀ = π + (1 − π)e^{−λ}; ∂ζ = −π(1 − π)(1 − e^{−λ})/p₀ per zero, + π per positive count;
    // ∂η = (1 − π)λ e^{−λ}/p₀ per zero, + λ − c per positive count.
    let (pi, lam) = (sigmoid(z), e.exp());
    let p0 = pi + (1.0 - pi) * (-lam).exp();
    let (mut ez, mut ee) = (0.0, 0.0);
    for &c in &counts {
        if c == 0 {
            ez -= pi * (1.0 - pi) * (1.0 - (-lam).exp()) / p0;
            ee += (1.0 - pi) * lam * (-lam).exp() / p0;
        } else {
            ez += pi;
            ee += lam - c as f64;
        }
    }
    close2("∂", (gz, ge), (ez, ee));
    fd2("zip", |a, b| zip_nll(a, b, &counts), (z, e), (gz, ge));
    let (_, _, (h0, h1)) = zip_nll_hvp(z, e, &counts, 1.0, 0.0);
    let h = 1e-5;
    let (gp, gm) = (
        zip_nll_grad(z + h, e, &counts).1,
        zip_nll_grad(z - h, e, &counts).1,
    );
    close("H·e₀ ζ", h0, (gp.0 - gm.0) / (2.0 * h), 1e-6);
    close("H·e₀ η", h1, (gp.1 - gm.1) / (2.0 * h), 1e-6);
}

/// Phase retrieval: intensities |aᵢ·x|² matched to measurements.
#[differentiate(hessian, wrt(x))]
fn phase_retrieval(x: &[f64], a: &[Vec<f64>], y: &[f64]) -> f64 {
    a.iter()
        .zip(y)
        .map(|(ai, &yi)| {
            let p: f64 = ai.iter().zip(x).map(|(u, v)| u * v).sum();
            (p * p - yi).powi(2)
        })
        .sum()
}

#[test]
fn phase_retrieval_gradient_and_hessian() {
    let a: Vec<Vec<f64>> = (0..6).map(|i| data(3, 1.3 * i as f64)).collect();
    let truth = [0.5, -1.0, 0.8];
    let y: Vec<f64> = a
        .iter()
        .map(|r| (0..3).map(|k| r[k] * truth[k]).sum::<f64>().powi(2))
        .collect();
    let x = vec![0.4, -0.8, 1.0];
    let (v, g) = phase_retrieval_grad(&x, &a, &y);
    close("value", v, phase_retrieval(&x, &a, &y), TOL);
    // p = a·x, r = p² − y: ∇ = Σ 4 r p a; H v = Σ 4 (3p² − y)(a·v) a
    let dir = vec![0.2, 0.5, -0.3];
    let (_, _, hv) = phase_retrieval_hvp(&x, &a, &y, &dir);
    let (mut e, mut eh) = (vec![0.0; 3], vec![0.0; 3]);
    for (ai, &yi) in a.iter().zip(&y) {
        let p: f64 = (0..3).map(|k| ai[k] * x[k]).sum();
        let av: f64 = (0..3).map(|k| ai[k] * dir[k]).sum();
        for k in 0..3 {
            e[k] += 4.0 * (p * p - yi) * p * ai[k];
            eh[k] += 4.0 * (3.0 * p * p - yi) * av * ai[k];
        }
    }
    for k in 0..3 {
        close("∂x", g[k], e[k], 1e-12);
        close("H·v", hv[k], eh[k], 1e-12);
    }
    fd_vec("∂x", |x| phase_retrieval(x, &a, &y), &x, &g);
}

/// A sinusoid fitted to samples: amplitude, frequency and phase.
#[differentiate(hessian, wrt(amp, freq, phase))]
fn sinusoid_fit(amp: f64, freq: f64, phase: f64, ts: &[f64], ys: &[f64]) -> f64 {
    ts.iter()
        .zip(ys)
        .map(|(&t, &y)| (amp * (2.0 * PI * freq * t + phase).sin() - y).powi(2))
        .sum()
}

#[test]
fn sinusoid_fit_gradient_and_hessian() {
    let ts: Vec<f64> = (0..12).map(|k| 0.05 * k as f64).collect();
    let ys: Vec<f64> = ts
        .iter()
        .map(|t| 1.3 * (2.0 * PI * 1.8 * t + 0.4).sin())
        .collect();
    let (a, f, p) = (1.1, 1.9, 0.3);
    let (v, (ga, gf, gp)) = sinusoid_fit_grad(a, f, p, &ts, &ys);
    close("value", v, sinusoid_fit(a, f, p, &ts, &ys), TOL);
    // θ = 2πft + φ, r = A sin θ − y: ∂A = Σ 2r sin θ, ∂f = Σ 2r A cos θ 2πt, ∂φ = Σ 2r A cos θ
    let (mut ea, mut ef, mut ep, mut haa) = (0.0, 0.0, 0.0, 0.0);
    for (&t, &y) in ts.iter().zip(&ys) {
        let th = 2.0 * PI * f * t + p;
        let r = a * th.sin() - y;
        ea += 2.0 * r * th.sin();
        ef += 2.0 * r * a * th.cos() * 2.0 * PI * t;
        ep += 2.0 * r * a * th.cos();
        haa += 2.0 * th.sin().powi(2);
    }
    close("∂A", ga, ea, 1e-12);
    close("∂f", gf, ef, 1e-12);
    close("∂φ", gp, ep, 1e-12);
    fd3(
        "sinusoid",
        |a, f, p| sinusoid_fit(a, f, p, &ts, &ys),
        (a, f, p),
        (ga, gf, gp),
    );
    let (_, _, (h0, _, _)) = sinusoid_fit_hvp(a, f, p, &ts, &ys, 1.0, 0.0, 0.0);
    close("∂²A", h0, haa, 1e-12);
}

/// A Gumbel-softmax relaxed choice with its noise drawn beforehand: the softmax of
/// (logits + noise)/τ weighting the values of the choices.
#[differentiate(hessian, wrt(logits))]
fn relaxed_choice_value(logits: &[f64], noise: &[f64], values: &[f64], tau: f64) -> f64 {
    let scores: Vec<f64> = logits
        .iter()
        .zip(noise)
        .map(|(l, g)| (l + g) / tau)
        .collect();
    let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.iter().zip(values).map(|(w, v)| w / z * v).sum()
}

#[test]
fn gumbel_softmax_relaxation() {
    let logits = vec![0.5, -0.2, 1.0, 0.1];
    let noise = vec![0.3, 1.2, -0.4, 0.05];
    let values = vec![1.0, 3.0, -2.0, 0.5];
    let tau = 0.7;
    let (v, g) = relaxed_choice_value_grad(&logits, &noise, &values, tau);
    close(
        "value",
        v,
        relaxed_choice_value(&logits, &noise, &values, tau),
        TOL,
    );
    // w = softmax: ∂lᵢ = wᵢ (vᵢ − w·v)/τ
    let s: Vec<f64> = (0..4)
        .map(|i| ((logits[i] + noise[i]) / tau).exp())
        .collect();
    let z: f64 = s.iter().sum();
    let w: Vec<f64> = s.iter().map(|x| x / z).collect();
    let wv: f64 = (0..4).map(|i| w[i] * values[i]).sum();
    for i in 0..4 {
        close("∂logits", g[i], w[i] * (values[i] - wv) / tau, 1e-12);
    }
    let dir = vec![1.0, 0.0, -1.0, 0.5];
    let (_, _, hv) = relaxed_choice_value_hvp(&logits, &noise, &values, tau, &dir);
    hvp_against_fd(
        "gumbel",
        |l| relaxed_choice_value_grad(l, &noise, &values, tau).1,
        &logits,
        &dir,
        &hv,
    );
}

/// The pinball (quantile) loss of one residual, for any float type.
#[differentiate]
fn pinball<F: Float>(r: F, tau: F) -> F {
    if r >= F::zero() {
        tau * r
    } else {
        (tau - F::one()) * r
    }
}

/// Several quantile lines fitted at once, with a penalty where neighbouring lines cross.
#[differentiate(wrt(slopes, icepts))]
fn multi_quantile_loss<F: Float>(slopes: &[F], icepts: &[F], taus: &[F], xs: &[F], ys: &[F]) -> F {
    let mut loss = F::zero();
    for (q, &tau) in taus.iter().enumerate() {
        for (&x, &y) in xs.iter().zip(ys) {
            loss = loss + pinball(y - (slopes[q] * x + icepts[q]), tau);
        }
    }
    for q in 1..taus.len() {
        for &x in xs {
            let gap = (slopes[q - 1] - slopes[q]) * x + icepts[q - 1] - icepts[q];
            if gap > F::zero() {
                loss = loss + gap * gap;
            }
        }
    }
    loss
}

#[test]
fn non_crossing_quantile_regression_generic() {
    let xs: Vec<f64> = (0..9).map(|k| 0.25 * k as f64).collect();
    let ys: Vec<f64> = xs
        .iter()
        .map(|x| 1.0 + 0.5 * x + 0.4 * (3.3 * x).sin())
        .collect();
    let taus = vec![0.1, 0.5, 0.9];
    let slopes = vec![0.45, 0.52, 0.3];
    let icepts = vec![0.71, 1.03, 1.42];
    let (v, (gs, gi)) = multi_quantile_loss_grad(&slopes, &icepts, &taus, &xs, &ys);
    close(
        "value",
        v,
        multi_quantile_loss(&slopes, &icepts, &taus, &xs, &ys),
        TOL,
    );
    // ∂b_q = Σ (−τ if r ≥ 0 else 1 − τ) + crossing terms ±2 gap
    let mut e = vec![0.0; 3];
    for q in 0..3 {
        for (&x, &y) in xs.iter().zip(&ys) {
            let r = y - (slopes[q] * x + icepts[q]);
            assert!(r.abs() > 1e-6, "no residual at the kink");
            e[q] += if r >= 0.0 { -taus[q] } else { 1.0 - taus[q] };
        }
    }
    for q in 1..3 {
        for &x in &xs {
            let gap = (slopes[q - 1] - slopes[q]) * x + icepts[q - 1] - icepts[q];
            if gap > 0.0 {
                e[q - 1] += 2.0 * gap;
                e[q] -= 2.0 * gap;
            }
        }
    }
    close_all("∂intercepts", &gi, &e);
    fd_vec2(
        "quantiles",
        |s, i| multi_quantile_loss(s, i, &taus, &xs, &ys),
        &slopes,
        &icepts,
        &gs,
        &gi,
    );
    let f32s = |v: &[f64]| -> Vec<f32> { v.iter().map(|&x| x as f32).collect() };
    let (_, (_, gi32)) = multi_quantile_loss_grad(
        &f32s(&slopes),
        &f32s(&icepts),
        &f32s(&taus),
        &f32s(&xs),
        &f32s(&ys),
    );
    for q in 0..3 {
        close("f32 ∂b", gi32[q] as f64, e[q], 1e-4);
    }
}

// ---------------------------------------------------------------------------------------------
// Regularisers, metrics and more objectives.
// ---------------------------------------------------------------------------------------------

/// The group-lasso penalty over pairs of weights, `chunks_exact(2)`, each group's norm
/// smoothed at zero.
#[differentiate(hessian)]
fn group_lasso(w: &[f64], eps: f64) -> f64 {
    w.chunks_exact(2)
        .map(|g| (g[0] * g[0] + g[1] * g[1] + eps).sqrt())
        .sum()
}

#[test]
fn group_lasso_over_chunks_of_two() {
    let w = vec![0.3, -0.4, 1.2, 0.5, -0.1, 0.05];
    let eps = 1e-6;
    let (v, (g, ge)) = group_lasso_grad(&w, eps);
    close("value", v, group_lasso(&w, eps), TOL);
    // n_g = √(|w_g|² + ε): ∂w = w/n_g, ∂ε = Σ 1/(2n_g); H·v = v/n − w (w·v)/n³ per group
    let dir = vec![1.0, 0.5, -0.3, 0.2, 0.7, -1.0];
    let (_, _, (hv, _)) = group_lasso_hvp(&w, eps, &dir, 0.0);
    let mut e_eps = 0.0;
    for c in 0..3 {
        let (a, b) = (w[2 * c], w[2 * c + 1]);
        let n = (a * a + b * b + eps).sqrt();
        e_eps += 0.5 / n;
        let wv = a * dir[2 * c] + b * dir[2 * c + 1];
        for k in 0..2 {
            close("∂w", g[2 * c + k], w[2 * c + k] / n, 1e-12);
            let e = dir[2 * c + k] / n - w[2 * c + k] * wv / n.powi(3);
            close("H·v", hv[2 * c + k], e, 1e-10);
        }
    }
    close("∂ε", ge, e_eps, 1e-10);
    fd_vec("∂w", |w| group_lasso(w, eps), &w, &g);
}

/// A CosFace-style margin softmax: the logits are a scale times the cosines between a
/// normalised feature and normalised class centres, less a margin on the true class.
#[differentiate(wrt(feat, centres, scale))]
fn cosface_loss(feat: &[f64], centres: &[Vec<f64>], label: usize, scale: f64, margin: f64) -> f64 {
    let fnorm = feat.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut logits = Vec::new();
    for (j, c) in centres.iter().enumerate() {
        let cnorm = c.iter().map(|v| v * v).sum::<f64>().sqrt();
        let cos = feat.iter().zip(c).map(|(a, b)| a * b).sum::<f64>() / (fnorm * cnorm);
        let m = if j == label { margin } else { 0.0 };
        logits.push(scale * (cos - m));
    }
    let mx = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = mx + logits.iter().map(|z| (z - mx).exp()).sum::<f64>().ln();
    lse - logits[label]
}

#[test]
fn cosface_margin_softmax() {
    let feat = vec![0.5, -0.3, 0.8];
    let centres: Vec<Vec<f64>> = (0..4).map(|j| data(3, 2.4 * j as f64)).collect();
    let (s, m) = (8.0, 0.2);
    let (v, (gf, gc, gs)) = cosface_loss_grad(&feat, &centres, 1, s, m);
    close("value", v, cosface_loss(&feat, &centres, 1, s, m), TOL);
    // ∂s = Σ (pⱼ − 1{j = y})(cosⱼ − mⱼ)
    let fnorm = feat.iter().map(|v| v * v).sum::<f64>().sqrt();
    let cos: Vec<f64> = centres
        .iter()
        .map(|c| {
            let cn = c.iter().map(|v| v * v).sum::<f64>().sqrt();
            (0..3).map(|k| feat[k] * c[k]).sum::<f64>() / (fnorm * cn)
        })
        .collect();
    let z: Vec<f64> = (0..4)
        .map(|j| s * (cos[j] - if j == 1 { m } else { 0.0 }))
        .collect();
    let tot: f64 = z.iter().map(|v| v.exp()).sum();
    let e: f64 = (0..4)
        .map(|j| (z[j].exp() / tot - if j == 1 { 1.0 } else { 0.0 }) * z[j] / s)
        .sum();
    close("∂s", gs, e, 1e-12);
    // Scaling the feature changes nothing: ∂f ⊥ f
    let along: f64 = (0..3).map(|k| gf[k] * feat[k]).sum();
    close("∂f·f", along, 0.0, 1e-12);
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<Vec<f64>>, f64)| cosface_loss(&p.0, &p.1, 1, p.2, m),
        &(feat.clone(), centres.clone(), s),
        &(gf.clone(), gc.clone(), gs),
    );
    assert!(r.passed(), "{r}");
}

/// Linear interpolation over a triangle by barycentric coordinates.
#[differentiate(hessian)]
fn barycentric_interp(p: [f64; 2], tri: [[f64; 2]; 3], vals: [f64; 3]) -> f64 {
    let [a, b, c] = tri;
    let det = (b[1] - c[1]) * (a[0] - c[0]) + (c[0] - b[0]) * (a[1] - c[1]);
    let l0 = ((b[1] - c[1]) * (p[0] - c[0]) + (c[0] - b[0]) * (p[1] - c[1])) / det;
    let l1 = ((c[1] - a[1]) * (p[0] - c[0]) + (a[0] - c[0]) * (p[1] - c[1])) / det;
    let l2 = 1.0 - l0 - l1;
    l0 * vals[0] + l1 * vals[1] + l2 * vals[2]
}

#[test]
fn barycentric_interpolation_over_a_triangle() {
    let tri = [[0.0, 0.0], [2.0, 0.3], [0.5, 1.8]];
    // A linear function f(x, y) = 1 + 2x − 3y is reproduced exactly.
    let f = |q: [f64; 2]| 1.0 + 2.0 * q[0] - 3.0 * q[1];
    let vals = [f(tri[0]), f(tri[1]), f(tri[2])];
    let p = [0.7, 0.6];
    let (v, (gp, gt, gv)) = barycentric_interp_grad(p, tri, vals);
    close("value", v, f(p), 1e-12);
    close("∂p", gp[0], 2.0, 1e-12);
    close("∂p", gp[1], -3.0, 1e-12);
    // ∂vals = the barycentric coordinates, which sum to one and reproduce p
    close("Σλ", gv.iter().sum::<f64>(), 1.0, 1e-12);
    for c in 0..2 {
        let e: f64 = (0..3).map(|i| gv[i] * tri[i][c]).sum();
        close("Σ λ vᵢ = p", e, p[c], 1e-12);
    }
    // Moving the triangle's corners with the function's values fixed changes the value.
    let r = gradcheck(
        |q: &([f64; 2], [[f64; 2]; 3], [f64; 3])| barycentric_interp(q.0, q.1, q.2),
        &(p, tri, vals),
        &(gp, gt, gv),
    );
    assert!(r.passed(), "{r}");
    // The value is linear in p: ∂²p = 0.
    let (_, _, (hp, _, _)) =
        barycentric_interp_hvp(p, tri, vals, [1.0, 1.0], [[0.0; 2]; 3], [0.0; 3]);
    close("∂²p", hp[0], 0.0, 1e-12);
    close("∂²p", hp[1], 0.0, 1e-12);
}

/// A smooth union of circles as a signed distance, −k ln Σ exp(−dᵢ/k), and surface points
/// fitted to it by moving and resizing the circles.
#[differentiate(hessian)]
fn smooth_sdf(p: [f64; 2], circles: &[[f64; 3]], k: f64) -> f64 {
    let mut s = 0.0;
    for c in circles {
        let d = (p[0] - c[0]).hypot(p[1] - c[1]) - c[2];
        s += (-d / k).exp();
    }
    -k * s.ln()
}

#[differentiate(wrt(circles))]
fn surface_fit(circles: &[[f64; 3]], pts: &[[f64; 2]], k: f64) -> f64 {
    pts.iter().map(|&p| smooth_sdf(p, circles, k).powi(2)).sum()
}

#[test]
fn smooth_union_signed_distance_fit() {
    let circles = vec![[0.0, 0.0, 1.0], [1.5, 0.2, 0.7], [-0.4, 1.3, 0.5]];
    let p = [0.9, 0.9];
    let (d, (gp, gc, _)) = smooth_sdf_grad(p, &circles, 0.2);
    close("value", d, smooth_sdf(p, &circles, 0.2), TOL);
    // w = softmax(−d/k): ∂p = Σ wᵢ (p − cᵢ)/|p − cᵢ|, ∂rᵢ = −wᵢ
    let ds: Vec<f64> = circles
        .iter()
        .map(|c| (p[0] - c[0]).hypot(p[1] - c[1]) - c[2])
        .collect();
    let z: f64 = ds.iter().map(|d| (-d / 0.2).exp()).sum();
    let mut e = [0.0; 2];
    for (i, c) in circles.iter().enumerate() {
        let w = (-ds[i] / 0.2).exp() / z;
        let n = (p[0] - c[0]).hypot(p[1] - c[1]);
        e[0] += w * (p[0] - c[0]) / n;
        e[1] += w * (p[1] - c[1]) / n;
        close("∂r", gc[i][2], -w, 1e-12);
    }
    close("∂p", gp[0], e[0], 1e-12);
    close("∂p", gp[1], e[1], 1e-12);
    let (_, _, (hp, _, _)) = smooth_sdf_hvp(p, &circles, 0.2, [1.0, 0.0], &vec![[0.0; 3]; 3], 0.0);
    let h = 1e-6;
    let gpp = smooth_sdf_grad([p[0] + h, p[1]], &circles, 0.2).1.0;
    let gpm = smooth_sdf_grad([p[0] - h, p[1]], &circles, 0.2).1.0;
    close("H·e₀", hp[0], (gpp[0] - gpm[0]) / (2.0 * h), 1e-6);
    close("H·e₀", hp[1], (gpp[1] - gpm[1]) / (2.0 * h), 1e-6);
    let pts: Vec<[f64; 2]> = (0..8)
        .map(|i| {
            let a = 0.8 * i as f64;
            [1.1 * a.cos(), 1.0 * a.sin()]
        })
        .collect();
    let (v, g) = surface_fit_grad(&circles, &pts, 0.2);
    close("fit value", v, surface_fit(&circles, &pts, 0.2), TOL);
    // ∂rᵢ = Σ 2 sdf(p) (−wᵢ(p))
    let e: f64 = pts
        .iter()
        .map(|&q| {
            let (s, (_, gc, _)) = smooth_sdf_grad(q, &circles, 0.2);
            2.0 * s * gc[0][2]
        })
        .sum();
    close("∂r₀", g[0][2], e, 1e-12);
    let r = gradcheck(|c: &Vec<[f64; 3]>| surface_fit(c, &pts, 0.2), &circles, &g);
    assert!(r.passed(), "{r}");
}

/// Knowledge distillation: T²·KL(softmax(t/T) ‖ softmax(s/T)) between teacher and student.
#[differentiate(hessian, wrt(student))]
fn distillation_loss(student: &[f64], teacher: &[f64], temp: f64) -> f64 {
    let lse = |z: &[f64]| -> f64 {
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        m + z.iter().map(|v| ((v - m) / temp).exp()).sum::<f64>().ln() * temp
    };
    let (ls, lt) = (lse(student), lse(teacher));
    let mut kl = 0.0;
    for (s, t) in student.iter().zip(teacher) {
        let p = ((t - lt) / temp).exp();
        kl += p * ((t - lt) - (s - ls)) / temp;
    }
    temp * temp * kl
}

#[test]
fn knowledge_distillation_with_temperature() {
    let student = vec![0.2, 1.5, -0.3, 0.8];
    let teacher = vec![0.5, 2.0, -1.0, 0.4];
    let t = 2.0;
    let (v, g) = distillation_loss_grad(&student, &teacher, t);
    close("value", v, distillation_loss(&student, &teacher, t), TOL);
    // ∂s = T (q − p), q = softmax(s/T), p = softmax(t/T); H·v = (diag q − q qᵀ) v
    let sm = |z: &[f64]| -> Vec<f64> {
        let e: Vec<f64> = z.iter().map(|v| (v / t).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    };
    let (q, p) = (sm(&student), sm(&teacher));
    let dir = vec![1.0, -1.0, 0.5, 0.0];
    let (_, _, hv) = distillation_loss_hvp(&student, &teacher, t, &dir);
    let qv: f64 = (0..4).map(|i| q[i] * dir[i]).sum();
    for i in 0..4 {
        close("∂s", g[i], t * (q[i] - p[i]), 1e-12);
        close("H·v", hv[i], q[i] * (dir[i] - qv), 1e-12);
    }
    fd_vec("∂s", |s| distillation_loss(s, &teacher, t), &student, &g);
    // Matching logits: the loss and its gradient vanish.
    let (v0, g0) = distillation_loss_grad(&teacher, &teacher, t);
    close("KL(p‖p)", v0, 0.0, 1e-12);
    close_all("∂ at the teacher", &g0, &[0.0; 4]);
}

/// The 1-D Wasserstein-1 distance between two equal-size samples: both sorted, then the
/// mean absolute difference of their order statistics.
#[differentiate]
fn wasserstein_1d(x: &[f64], y: &[f64]) -> f64 {
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    ys.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs.iter().zip(&ys).map(|(a, b)| (a - b).abs()).sum::<f64>() / x.len() as f64
}

#[test]
fn wasserstein_distance_by_sorting() {
    let x = vec![0.3, -1.2, 0.8, 2.0, -0.1];
    let y = vec![1.0, 0.0, -0.5, 0.4, 1.9];
    let (v, (gx, gy)) = wasserstein_1d_grad(&x, &y);
    close("value", v, wasserstein_1d(&x, &y), TOL);
    // The i-th smallest of x meets the i-th smallest of y: ∂x at that rank = sign(x₍ᵢ₎ − y₍ᵢ₎)/n
    let rank = |v: &[f64]| -> Vec<usize> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].partial_cmp(&v[b]).unwrap());
        idx
    };
    let (rx, ry) = (rank(&x), rank(&y));
    for i in 0..5 {
        let d = x[rx[i]] - y[ry[i]];
        close("∂x", gx[rx[i]], d.signum() / 5.0, 1e-12);
        close("∂y", gy[ry[i]], -d.signum() / 5.0, 1e-12);
    }
    fd_vec2("w1", |a, b| wasserstein_1d(a, b), &x, &y, &gx, &gy);
}

/// A kinematic bicycle driven by a steering sequence: the squared distance of its final
/// position from a goal plus a steering effort.
#[differentiate(wrt(steer))]
fn bicycle_cost(steer: &[f64], speed: f64, wheelbase: f64, dt: f64, goal: [f64; 2]) -> f64 {
    let (mut x, mut y, mut th) = (0.0, 0.0, 0.0);
    let mut effort = 0.0;
    for &d in steer {
        x += speed * th.cos() * dt;
        y += speed * th.sin() * dt;
        th += speed / wheelbase * d.tan() * dt;
        effort += d * d;
    }
    (x - goal[0]).powi(2) + (y - goal[1]).powi(2) + 0.1 * effort
}

#[test]
fn kinematic_bicycle_steering() {
    let steer = vec![0.1, 0.2, 0.15, 0.0, -0.1, 0.05];
    let goal = [2.5, 0.6];
    let (v, g) = bicycle_cost_grad(&steer, 1.0, 0.5, 0.5, goal);
    close("value", v, bicycle_cost(&steer, 1.0, 0.5, 0.5, goal), TOL);
    fd_vec(
        "∂steer",
        |s| bicycle_cost(s, 1.0, 0.5, 0.5, goal),
        &steer,
        &g,
    );
    // The last steering angle turns the heading only after the last move: ∂ = 0.2 δ
    close("∂δ_last", g[5], 0.2 * steer[5], 1e-12);
    // Two steps: the first angle turns the second move, ∂δ₀ = 2e·(−sin θ₁, cos θ₁)·v dt ·
    // (v/L) sec² δ₀ dt + 0.2 δ₀
    let two = [0.3, 0.0];
    let (_, g2) = bicycle_cost_grad(&two, 1.0, 0.5, 0.5, goal);
    let th1 = 1.0 / 0.5 * 0.3f64.tan() * 0.5;
    let (x2, y2) = (0.5 + 0.5 * th1.cos(), 0.5 * th1.sin());
    let dth = 1.0 / 0.5 / 0.3f64.cos().powi(2) * 0.5;
    let e = 2.0 * (x2 - goal[0]) * (-th1.sin() * 0.5 * dth)
        + 2.0 * (y2 - goal[1]) * (th1.cos() * 0.5 * dth)
        + 0.2 * 0.3;
    close("two steps ∂δ₀", g2[0], e, 1e-12);
}

/// A Cobb–Douglas production function fitted on a log scale.
#[differentiate(hessian, wrt(ln_a, alpha, beta))]
fn cobb_douglas_fit(ln_a: f64, alpha: f64, beta: f64, k: &[f64], l: &[f64], y: &[f64]) -> f64 {
    let mut loss = 0.0;
    for i in 0..y.len() {
        let pred = ln_a + alpha * k[i].ln() + beta * l[i].ln();
        loss += (pred - y[i].ln()).powi(2);
    }
    loss
}

#[test]
fn cobb_douglas_production_fit() {
    let k = vec![10.0, 20.0, 15.0, 30.0, 25.0];
    let l = vec![5.0, 6.0, 9.0, 7.0, 12.0];
    let y: Vec<f64> = k
        .iter()
        .zip(&l)
        .map(|(a, b): (&f64, &f64)| 1.5 * a.powf(0.3) * b.powf(0.65) * (1.0 + 0.02 * a.sin()))
        .collect();
    let (la, al, be) = (0.3, 0.35, 0.6);
    let (v, (g0, g1, g2)) = cobb_douglas_fit_grad(la, al, be, &k, &l, &y);
    close("value", v, cobb_douglas_fit(la, al, be, &k, &l, &y), TOL);
    // Linear least squares in (ln A, α, β): ∇ = 2Xᵀr, H = 2XᵀX with rows (1, ln K, ln L)
    let mut e = [0.0; 3];
    let mut hcol = [0.0; 3];
    for i in 0..5 {
        let row = [1.0, k[i].ln(), l[i].ln()];
        let r = la + al * row[1] + be * row[2] - y[i].ln();
        for c in 0..3 {
            e[c] += 2.0 * r * row[c];
            hcol[c] += 2.0 * row[c] * row[1];
        }
    }
    close("∂ln A", g0, e[0], 1e-12);
    close("∂α", g1, e[1], 1e-12);
    close("∂β", g2, e[2], 1e-12);
    let (_, _, (h0, h1, h2)) = cobb_douglas_fit_hvp(la, al, be, &k, &l, &y, 0.0, 1.0, 0.0);
    close("H·e₁", h0, hcol[0], 1e-12);
    close("H·e₁", h1, hcol[1], 1e-12);
    close("H·e₁", h2, hcol[2], 1e-12);
    fd3(
        "cobb-douglas",
        |a, b, c| cobb_douglas_fit(a, b, c, &k, &l, &y),
        (la, al, be),
        (g0, g1, g2),
    );
}

/// A multinomial logit demand model with an outside option: product utilities δⱼ − α pⱼ, and
/// the negative log-likelihood of observed choices (`None` of the products: index n).
#[differentiate(hessian, wrt(delta, alpha))]
fn logit_demand_nll(delta: &[f64], alpha: f64, prices: &[f64], choices: &[usize]) -> f64 {
    let utils: Vec<f64> = delta
        .iter()
        .zip(prices)
        .map(|(d, p)| d - alpha * p)
        .collect();
    let denom = 1.0 + utils.iter().map(|u| u.exp()).sum::<f64>();
    let mut nll = 0.0;
    for &c in choices {
        let u = if c < utils.len() { utils[c] } else { 0.0 };
        nll -= u - denom.ln();
    }
    nll
}

#[test]
fn logit_demand_with_an_outside_option() {
    let delta = vec![1.0, 0.5, 0.2];
    let prices = vec![2.0, 1.0, 0.5];
    let choices = vec![0, 1, 1, 3, 2, 0, 3, 1];
    let alpha = 0.4;
    let (v, (gd, ga)) = logit_demand_nll_grad(&delta, alpha, &prices, &choices);
    close(
        "value",
        v,
        logit_demand_nll(&delta, alpha, &prices, &choices),
        TOL,
    );
    // shares sⱼ: ∂δⱼ = N sⱼ − #{c = j}; ∂α = Σ_c p_c − N Σ sⱼ pⱼ (p = 0 outside)
    let u: Vec<f64> = (0..3).map(|j| delta[j] - alpha * prices[j]).collect();
    let den = 1.0 + u.iter().map(|x| x.exp()).sum::<f64>();
    let s: Vec<f64> = u.iter().map(|x| x.exp() / den).collect();
    for j in 0..3 {
        let cnt = choices.iter().filter(|&&c| c == j).count() as f64;
        close("∂δ", gd[j], 8.0 * s[j] - cnt, 1e-12);
    }
    let chosen: f64 = choices
        .iter()
        .map(|&c| if c < 3 { prices[c] } else { 0.0 })
        .sum();
    let mean: f64 = (0..3).map(|j| s[j] * prices[j]).sum();
    close("∂α", ga, chosen - 8.0 * mean, 1e-12);
    // ∂²α = N (Σ s p² − (Σ s p)²)
    let (_, _, (_, ha)) =
        logit_demand_nll_hvp(&delta, alpha, &prices, &choices, &vec![0.0; 3], 1.0);
    let sp2: f64 = (0..3).map(|j| s[j] * prices[j] * prices[j]).sum();
    close("∂²α", ha, 8.0 * (sp2 - mean * mean), 1e-12);
    fd(
        "∂α",
        |a| logit_demand_nll(&delta, a, &prices, &choices),
        alpha,
        ga,
    );
}

/// Risk parity: each asset's risk contribution wᵢ(Σw)ᵢ pulled to an equal share.
#[differentiate(hessian, wrt(w))]
fn risk_parity(w: &[f64], cov: &[Vec<f64>]) -> f64 {
    let n = w.len();
    let sw: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| cov[i][j] * w[j]).sum())
        .collect();
    let total: f64 = (0..n).map(|i| w[i] * sw[i]).sum();
    (0..n)
        .map(|i| (w[i] * sw[i] - total / n as f64).powi(2))
        .sum()
}

#[test]
fn risk_parity_objective() {
    let cov = vec![
        vec![0.04, 0.006, 0.002],
        vec![0.006, 0.09, 0.01],
        vec![0.002, 0.01, 0.0225],
    ];
    let w = vec![0.4, 0.25, 0.35];
    let (v, g) = risk_parity_grad(&w, &cov);
    close("value", v, risk_parity(&w, &cov), TOL);
    // RCᵢ = wᵢ(Σw)ᵢ, m = Σ RC / n; dᵢ = RCᵢ − m: ∂w_k = Σᵢ 2dᵢ (∂RCᵢ/∂w_k − ∂m/∂w_k), the
    // last summing to zero since Σ dᵢ = 0; ∂RCᵢ/∂w_k = δᵢₖ(Σw)ᵢ + wᵢ Σᵢₖ
    let sw: Vec<f64> = (0..3)
        .map(|i| (0..3).map(|j| cov[i][j] * w[j]).sum())
        .collect();
    let rc: Vec<f64> = (0..3).map(|i| w[i] * sw[i]).collect();
    let m = rc.iter().sum::<f64>() / 3.0;
    for k in 0..3 {
        let e: f64 = (0..3)
            .map(|i| {
                let d = if i == k { sw[i] } else { 0.0 } + w[i] * cov[i][k];
                2.0 * (rc[i] - m) * d
            })
            .sum();
        close("∂w", g[k], e, 1e-12);
    }
    fd_vec("∂w", |w| risk_parity(w, &cov), &w, &g);
    let dir = vec![0.1, -0.2, 0.1];
    let (_, _, hv) = risk_parity_hvp(&w, &cov, &dir);
    hvp_against_fd(
        "risk parity",
        |w| risk_parity_grad(w, &cov).1,
        &w,
        &dir,
        &hv,
    );
}

/// The mean-field free energy of an Ising model in magnetisations mᵢ ∈ (−1, 1).
#[differentiate(hessian, wrt(m))]
fn mean_field_free_energy(m: &[f64], coupling: &[Vec<f64>], field: &[f64], temp: f64) -> f64 {
    let n = m.len();
    let mut f = 0.0;
    for i in 0..n {
        for j in 0..n {
            f -= 0.5 * coupling[i][j] * m[i] * m[j];
        }
        f -= field[i] * m[i];
        let (p, q) = ((1.0 + m[i]) / 2.0, (1.0 - m[i]) / 2.0);
        f += temp * (p * p.ln() + q * q.ln());
    }
    f
}

#[test]
fn ising_mean_field_free_energy() {
    let n = 4;
    let coupling: Vec<Vec<f64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| {
                    if i == j {
                        0.0
                    } else {
                        0.3 / (1.0 + (i as f64 - j as f64).abs())
                    }
                })
                .collect()
        })
        .collect();
    let field = vec![0.1, -0.2, 0.05, 0.0];
    let m = vec![0.2, -0.4, 0.1, 0.6];
    let (v, g) = mean_field_free_energy_grad(&m, &coupling, &field, 0.8);
    close(
        "value",
        v,
        mean_field_free_energy(&m, &coupling, &field, 0.8),
        TOL,
    );
    // ∂mᵢ = −Σⱼ Jᵢⱼ mⱼ − hᵢ + T atanh(mᵢ); H = −J + T diag(1/(1 − m²))
    let dir = vec![1.0, 0.5, -0.5, 0.25];
    let (_, _, hv) = mean_field_free_energy_hvp(&m, &coupling, &field, 0.8, &dir);
    for i in 0..n {
        let jm: f64 = (0..n).map(|j| coupling[i][j] * m[j]).sum();
        close("∂m", g[i], -jm - field[i] + 0.8 * m[i].atanh(), 1e-12);
        let jd: f64 = (0..n).map(|j| coupling[i][j] * dir[j]).sum();
        close(
            "H·v",
            hv[i],
            -jd + 0.8 * dir[i] / (1.0 - m[i] * m[i]),
            1e-12,
        );
    }
    fd_vec(
        "∂m",
        |m| mean_field_free_energy(m, &coupling, &field, 0.8),
        &m,
        &g,
    );
}

/// Tikhonov-regularised deblurring with a 3-tap kernel and clamped borders: the blurred
/// estimate against the observation, plus λ‖x‖².
#[differentiate(hessian, wrt(x))]
fn deblur_objective(x: &[f64], kernel: [f64; 3], y: &[f64], lambda: f64) -> f64 {
    let n = x.len();
    let mut loss = 0.0;
    for i in 0..n {
        let left = x[i.saturating_sub(1)];
        let right = x[(i + 1).min(n - 1)];
        let b = kernel[0] * left + kernel[1] * x[i] + kernel[2] * right;
        loss += (b - y[i]).powi(2);
    }
    loss + lambda * x.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn tikhonov_deblurring_with_clamped_borders() {
    let n = 7;
    let kernel = [0.25, 0.5, 0.25];
    let y = data(n, 0.6);
    let x = data(n, 2.1);
    let (v, g) = deblur_objective_grad(&x, kernel, &y, 0.1);
    close("value", v, deblur_objective(&x, kernel, &y, 0.1), TOL);
    // The blur as a matrix K (clamped taps add up at the borders): ∇ = 2Kᵀ(Kx − y) + 2λx,
    // H = 2KᵀK + 2λI
    let mut k = vec![vec![0.0; n]; n];
    for i in 0..n {
        k[i][i.saturating_sub(1)] += kernel[0];
        k[i][i] += kernel[1];
        k[i][(i + 1).min(n - 1)] += kernel[2];
    }
    let kx: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| k[i][j] * x[j]).sum())
        .collect();
    let dir = data(n, 4.0);
    let kd: Vec<f64> = (0..n)
        .map(|i| (0..n).map(|j| k[i][j] * dir[j]).sum())
        .collect();
    let (_, _, hv) = deblur_objective_hvp(&x, kernel, &y, 0.1, &dir);
    for j in 0..n {
        let e: f64 = (0..n).map(|i| 2.0 * k[i][j] * (kx[i] - y[i])).sum::<f64>() + 0.2 * x[j];
        close("∂x", g[j], e, 1e-12);
        let eh: f64 = (0..n).map(|i| 2.0 * k[i][j] * kd[i]).sum::<f64>() + 0.2 * dir[j];
        close("H·v", hv[j], eh, 1e-12);
    }
    fd_vec("∂x", |x| deblur_objective(x, kernel, &y, 0.1), &x, &g);
}

// ---------------------------------------------------------------------------------------------
// Solvers, generic impls and stacks.
// ---------------------------------------------------------------------------------------------

/// A camera's tone curve, generic over the float type, whose loss method calls its apply
/// method.
#[derive(Clone, Debug, Differentiable)]
struct ToneCurve<F> {
    gain: F,
    gamma: F,
}

#[differentiate]
impl<F: Float> ToneCurve<F> {
    fn apply(&self, x: F) -> F
    where
        F: Float,
    {
        self.gain * x.powf(self.gamma)
    }

    fn loss(&self, xs: &[F], ys: &[F]) -> F
    where
        F: Float,
    {
        let mut total = F::zero();
        for (&x, &y) in xs.iter().zip(ys) {
            let r = self.apply(x) - y;
            total = total + r * r;
        }
        total
    }
}

#[test]
fn tone_curve_generic_impl_in_f64_and_f32() {
    let xs = vec![0.1, 0.3, 0.5, 0.8, 1.0];
    let ys: Vec<f64> = xs.iter().map(|x: &f64| 0.9 * x.powf(0.45)).collect();
    let c = ToneCurve {
        gain: 1.1,
        gamma: 0.5,
    };
    let (v, (g, _, _)) = c.loss_grad(&xs, &ys);
    close("value", v, c.loss(&xs, &ys), TOL);
    // r = g xᵞ − y: ∂gain = Σ 2r xᵞ, ∂γ = Σ 2r g xᵞ ln x
    let (mut eg, mut ey) = (0.0, 0.0);
    for (x, y) in xs.iter().zip(&ys) {
        let p = x.powf(0.5);
        let r = 1.1 * p - y;
        eg += 2.0 * r * p;
        ey += 2.0 * r * 1.1 * p * x.ln();
    }
    close("∂gain", g.gain, eg, 1e-12);
    close("∂γ", g.gamma, ey, 1e-12);
    let r = gradcheck(|c: &ToneCurve<f64>| c.loss(&xs, &ys), &c, &g);
    assert!(r.passed(), "{r}");
    let c32 = ToneCurve {
        gain: 1.1f32,
        gamma: 0.5f32,
    };
    let x32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
    let y32: Vec<f32> = ys.iter().map(|&y| y as f32).collect();
    let (_, (g32, _, _)) = c32.loss_grad(&x32, &y32);
    close("f32 ∂gain", g32.gain as f64, eg, 1e-5);
    close("f32 ∂γ", g32.gamma as f64, ey, 1e-5);
}

/// Composite Simpson's rule of a parametrised integrand kept in a closure.
#[differentiate(hessian, wrt(a, b))]
fn simpson_gaussian(a: f64, b: f64, n: usize) -> f64 {
    let f = |x: f64| (-a * x * x).exp() * (b * x).cos();
    let h = 1.0 / n as f64;
    let mut s = f(0.0) + f(1.0);
    for i in 1..n {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        s += w * f(i as f64 * h);
    }
    s * h / 3.0
}

#[test]
fn simpson_quadrature_through_a_closure() {
    let (a, b, n) = (1.3, 0.7, 10);
    let (v, (ga, gb)) = simpson_gaussian_grad(a, b, n);
    close("value", v, simpson_gaussian(a, b, n), TOL);
    // Differentiating under the rule: the same weights applied to −x² f and −x e^{−ax²} sin(bx)
    let h = 0.1;
    let (mut ea, mut eb, mut haa) = (0.0, 0.0, 0.0);
    for i in 0..=n {
        let x = i as f64 * h;
        let w = if i == 0 || i == n {
            1.0
        } else if i % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let e = (-a * x * x).exp();
        ea += w * -x * x * e * (b * x).cos();
        eb += w * -x * e * (b * x).sin();
        haa += w * x.powi(4) * e * (b * x).cos();
    }
    close2("∂", (ga, gb), (ea * h / 3.0, eb * h / 3.0));
    let (_, _, (h0, _)) = simpson_gaussian_hvp(a, b, n, 1.0, 0.0);
    close("∂²a", h0, haa * h / 3.0, 1e-12);
    fd2(
        "simpson",
        |a, b| simpson_gaussian(a, b, n),
        (a, b),
        (ga, gb),
    );
}

/// ListNet's top-one ranking loss: cross-entropy between the softmax of relevance labels and
/// the softmax of predicted scores.
#[differentiate(hessian, wrt(scores))]
fn listnet_loss(scores: &[f64], relevance: &[f64]) -> f64 {
    let ms = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let lse = ms + scores.iter().map(|s| (s - ms).exp()).sum::<f64>().ln();
    let zr: f64 = relevance.iter().map(|r| r.exp()).sum();
    relevance
        .iter()
        .zip(scores)
        .map(|(r, s)| -(r.exp() / zr) * (s - lse))
        .sum()
}

#[test]
fn listnet_ranking_loss() {
    let scores = vec![0.3, 1.2, -0.5, 0.8, 0.0];
    let rel = vec![1.0, 3.0, 0.0, 2.0, 0.0];
    let (v, g) = listnet_loss_grad(&scores, &rel);
    close("value", v, listnet_loss(&scores, &rel), TOL);
    // ∂s = softmax(s) − softmax(r); H = diag p − p pᵀ
    let sm = |z: &[f64]| -> Vec<f64> {
        let t: f64 = z.iter().map(|v| v.exp()).sum();
        z.iter().map(|v| v.exp() / t).collect()
    };
    let (p, q) = (sm(&scores), sm(&rel));
    let dir = data(5, 1.5);
    let (_, _, hv) = listnet_loss_hvp(&scores, &rel, &dir);
    let pd: f64 = (0..5).map(|i| p[i] * dir[i]).sum();
    for i in 0..5 {
        close("∂s", g[i], p[i] - q[i], 1e-12);
        close("H·v", hv[i], p[i] * (dir[i] - pd), 1e-12);
    }
    fd_vec("∂s", |s| listnet_loss(s, &rel), &scores, &g);
}

/// A soft decision tree of depth two in heap order, walked by `while let Some(p) =
/// probs.pop()` over a stack of the probabilities of reaching each node, with the nodes on a
/// second stack beside it (a `Vec<(usize, f64)>` of both is an error that says to split it),
/// each split a sigmoid, each leaf's value weighted by the probability of reaching it.
#[differentiate(wrt(split_w, split_b, leaves))]
fn soft_tree(split_w: &[f64], split_b: &[f64], leaves: &[f64], x: f64) -> f64 {
    let mut out = 0.0;
    let mut nodes: Vec<usize> = vec![0];
    let mut probs: Vec<f64> = vec![1.0];
    while let Some(p) = probs.pop() {
        let node = nodes.pop().unwrap();
        if node >= split_w.len() {
            out += p * leaves[node - split_w.len()];
        } else {
            let right = 1.0 / (1.0 + (-(split_w[node] * x + split_b[node])).exp());
            nodes.push(2 * node + 1);
            probs.push(p * (1.0 - right));
            nodes.push(2 * node + 2);
            probs.push(p * right);
        }
    }
    out
}

#[test]
fn soft_decision_tree_walked_by_a_stack() {
    let w = vec![1.5, -0.8, 2.0];
    let b = vec![0.1, 0.3, -0.2];
    let leaves = vec![1.0, -0.5, 0.7, 2.0];
    let x = 0.4;
    let (v, (gw, gb, gl)) = soft_tree_grad(&w, &b, &leaves, x);
    close("value", v, soft_tree(&w, &b, &leaves, x), TOL);
    // Leaf probabilities (1 − σ₀)(1 − σ₁), (1 − σ₀)σ₁, σ₀(1 − σ₂), σ₀σ₂ are ∂leaves
    let s: Vec<f64> = (0..3).map(|k| sigmoid(w[k] * x + b[k])).collect();
    let probs = [
        (1.0 - s[0]) * (1.0 - s[1]),
        (1.0 - s[0]) * s[1],
        s[0] * (1.0 - s[2]),
        s[0] * s[2],
    ];
    close_all("∂leaves", &gl, &probs);
    close(
        "value by hand",
        v,
        (0..4).map(|i| probs[i] * leaves[i]).sum(),
        1e-12,
    );
    // ∂b₀ = σ₀(1 − σ₀)(right subtree's value − left subtree's value)
    let left = (1.0 - s[1]) * leaves[0] + s[1] * leaves[1];
    let right = (1.0 - s[2]) * leaves[2] + s[2] * leaves[3];
    close("∂b₀", gb[0], s[0] * (1.0 - s[0]) * (right - left), 1e-12);
    close(
        "∂w₀",
        gw[0],
        x * s[0] * (1.0 - s[0]) * (right - left),
        1e-12,
    );
    let r = gradcheck(
        |p: &(Vec<f64>, Vec<f64>, Vec<f64>)| soft_tree(&p.0, &p.1, &p.2, x),
        &(w.clone(), b.clone(), leaves.clone()),
        &(gw, gb, gl),
    );
    assert!(r.passed(), "{r}");
}

/// Steady heat conduction on a rod: a tridiagonal system (the conductances between cells)
/// solved by the Thomas algorithm, and the weighted temperature it gives.
#[differentiate(wrt(cond, source))]
fn rod_temperature(cond: &[f64], source: &[f64], weights: &[f64]) -> f64 {
    let n = source.len();
    // Row i: −c_i u_{i−1} + (c_i + c_{i+1}) u_i − c_{i+1} u_{i+1} = q_i, ends held at zero.
    let mut cp = vec![0.0; n];
    let mut dp = vec![0.0; n];
    for i in 0..n {
        let a = -cond[i];
        let b = cond[i] + cond[i + 1];
        let c = -cond[i + 1];
        let (prev_c, prev_d) = if i > 0 {
            (cp[i - 1], dp[i - 1])
        } else {
            (0.0, 0.0)
        };
        let m = b - a * prev_c;
        cp[i] = c / m;
        dp[i] = (source[i] - a * prev_d) / m;
    }
    let mut u = vec![0.0; n];
    u[n - 1] = dp[n - 1];
    for i in (0..n - 1).rev() {
        u[i] = dp[i] - cp[i] * u[i + 1];
    }
    u.iter().zip(weights).map(|(a, b)| a * b).sum()
}

/// The same tridiagonal solve in plain code (test only).
fn thomas(cond: &[f64], rhs: &[f64]) -> Vec<f64> {
    let n = rhs.len();
    let mut m = vec![vec![0.0; n]; n];
    for i in 0..n {
        m[i][i] = cond[i] + cond[i + 1];
        if i > 0 {
            m[i][i - 1] = -cond[i];
        }
        if i + 1 < n {
            m[i][i + 1] = -cond[i + 1];
        }
    }
    let inv = inverse(&m);
    (0..n)
        .map(|i| (0..n).map(|j| inv[i][j] * rhs[j]).sum())
        .collect()
}

#[test]
fn rod_conduction_by_the_thomas_algorithm() {
    let cond = vec![1.0, 1.5, 0.8, 2.0, 1.2, 0.9];
    let source = vec![0.5, 1.0, -0.2, 0.3, 0.8];
    let weights = vec![1.0, 0.0, 2.0, -1.0, 0.5];
    let (v, (gc, gq)) = rod_temperature_grad(&cond, &source, &weights);
    close("value", v, rod_temperature(&cond, &source, &weights), TOL);
    let u = thomas(&cond, &source);
    close(
        "value by hand",
        v,
        u.iter().zip(&weights).map(|(a, b)| a * b).sum(),
        1e-12,
    );
    // The matrix A is symmetric: ∂q = A⁻¹ w, the adjoint solve; ∂cᵢ = −λᵀ (∂A/∂cᵢ) u
    let lam = thomas(&cond, &weights);
    for i in 0..5 {
        close("∂q", gq[i], lam[i], 1e-12);
    }
    for k in 0..cond.len() {
        // cₖ couples cells k − 1 and k: (∂A/∂cₖ)u has u_k − u_{k−1} at k and the opposite at
        // k − 1 (cells outside the rod held at zero)
        let at = |v: &[f64], i: isize| -> f64 { v.get(i as usize).copied().unwrap_or(0.0) };
        let (at, lat) = (|i: isize| at(&u, i), |i: isize| at(&lam, i));
        let d = at(k as isize) - at(k as isize - 1);
        let e = -(lat(k as isize) - lat(k as isize - 1)) * d;
        close("∂c", gc[k], e, 1e-12);
    }
    fd_vec2(
        "rod",
        |c, q| rod_temperature(c, q, &weights),
        &cond,
        &source,
        &gc,
        &gq,
    );
}

/// A European call priced by Monte Carlo over fixed normal draws, for its pathwise delta and
/// vega.
#[differentiate(wrt(s0, sigma))]
fn mc_call(s0: f64, sigma: f64, strike: f64, rate: f64, t: f64, z: &[f64]) -> f64 {
    let drift = (rate - 0.5 * sigma * sigma) * t;
    let vol = sigma * t.sqrt();
    let mut payoff = 0.0;
    for &zi in z {
        let st = s0 * (drift + vol * zi).exp();
        payoff += (st - strike).max(0.0);
    }
    (-rate * t).exp() * payoff / z.len() as f64
}

#[test]
fn monte_carlo_call_pathwise_greeks() {
    let z: Vec<f64> = (0..64)
        .map(|i| 1.7 * ((i as f64 + 0.5) * 0.77).sin())
        .collect();
    let (s0, sig, k, r, t) = (100.0, 0.25, 105.0, 0.02, 1.0);
    let (v, (delta, vega)) = mc_call_grad(s0, sig, k, r, t, &z);
    close("value", v, mc_call(s0, sig, k, r, t, &z), TOL);
    // Pathwise: Δ = e^{−rT} mean(1{S_T > K} S_T/S₀), vega = e^{−rT} mean(1{S_T > K} S_T (−σT + √T z))
    let (mut ed, mut ev) = (0.0, 0.0);
    for &zi in &z {
        let st = s0 * ((r - 0.5 * sig * sig) * t + sig * t.sqrt() * zi).exp();
        assert!((st - k).abs() > 1e-3, "no path at the strike");
        if st > k {
            ed += st / s0;
            ev += st * (-sig * t + t.sqrt() * zi);
        }
    }
    let disc = (-r * t).exp() / 64.0;
    close("Δ", delta, disc * ed, 1e-12);
    close("vega", vega, disc * ev, 1e-12);
    fd2(
        "mc",
        |s, v| mc_call(s, v, k, r, t, &z),
        (s0, sig),
        (delta, vega),
    );
}

// ---------------------------------------------------------------------------------------------
// Chemistry, lending and polygons.
// ---------------------------------------------------------------------------------------------

/// Michaelis–Menten kinetics fitted to initial rates: v = V_max S / (K_m + S).
#[differentiate(hessian, wrt(vmax, km))]
fn michaelis_menten_fit(vmax: f64, km: f64, s: &[f64], v: &[f64]) -> f64 {
    s.iter()
        .zip(v)
        .map(|(&si, &vi)| (vmax * si / (km + si) - vi).powi(2))
        .sum()
}

#[test]
fn michaelis_menten_kinetics() {
    let s = vec![0.5, 1.0, 2.0, 5.0, 10.0, 20.0];
    let v = vec![0.9, 1.5, 2.2, 3.0, 3.4, 3.7];
    let (vm, km) = (4.0, 2.5);
    let (val, (gv, gk)) = michaelis_menten_fit_grad(vm, km, &s, &v);
    close("value", val, michaelis_menten_fit(vm, km, &s, &v), TOL);
    // r = V S/(K + S) − v: ∂V = Σ 2r S/(K + S), ∂K = −Σ 2r V S/(K + S)²; ∂²V = 2 Σ (S/(K + S))²
    let (mut ev, mut ek, mut hvv) = (0.0, 0.0, 0.0);
    for (&si, &vi) in s.iter().zip(&v) {
        let f = si / (km + si);
        let r = vm * f - vi;
        ev += 2.0 * r * f;
        ek -= 2.0 * r * vm * si / (km + si).powi(2);
        hvv += 2.0 * f * f;
    }
    close2("∂", (gv, gk), (ev, ek));
    let (_, _, (h0, _)) = michaelis_menten_fit_hvp(vm, km, &s, &v, 1.0, 0.0);
    close("∂²V", h0, hvv, 1e-12);
    fd2(
        "mm",
        |a, b| michaelis_menten_fit(a, b, &s, &v),
        (vm, km),
        (gv, gk),
    );
}

/// Beer–Lambert unmixing: an absorbance spectrum as a sum of known component spectra with
/// positive concentrations (on a log scale).
#[differentiate(hessian, wrt(log_c))]
fn unmixing_loss(log_c: &[f64], spectra: &[Vec<f64>], absorbance: &[f64]) -> f64 {
    let c: Vec<f64> = log_c.iter().map(|l| l.exp()).collect();
    let mut loss = 0.0;
    for (w, &a) in absorbance.iter().enumerate() {
        let pred: f64 = c.iter().zip(spectra).map(|(ck, eps)| ck * eps[w]).sum();
        loss += (pred - a).powi(2);
    }
    loss
}

#[test]
fn beer_lambert_unmixing() {
    let spectra: Vec<Vec<f64>> = (0..3)
        .map(|k| {
            (0..8)
                .map(|w| (-((w as f64 - 2.5 * k as f64 - 1.0).powi(2)) / 3.0).exp())
                .collect()
        })
        .collect();
    let absorbance: Vec<f64> = (0..8)
        .map(|w| 0.4 * spectra[0][w] + 1.1 * spectra[1][w] + 0.7 * spectra[2][w])
        .collect();
    let log_c = vec![-0.5, 0.2, -0.1];
    let (v, g) = unmixing_loss_grad(&log_c, &spectra, &absorbance);
    close(
        "value",
        v,
        unmixing_loss(&log_c, &spectra, &absorbance),
        TOL,
    );
    // ∂log cₖ = Σ_w 2 r_w εₖ(w) cₖ
    let c: Vec<f64> = log_c.iter().map(|l| l.exp()).collect();
    let r: Vec<f64> = (0..8)
        .map(|w| (0..3).map(|k| c[k] * spectra[k][w]).sum::<f64>() - absorbance[w])
        .collect();
    for k in 0..3 {
        let e: f64 = (0..8).map(|w| 2.0 * r[w] * spectra[k][w] * c[k]).sum();
        close("∂log c", g[k], e, 1e-12);
    }
    fd_vec(
        "∂log c",
        |l| unmixing_loss(l, &spectra, &absorbance),
        &log_c,
        &g,
    );
    let dir = vec![1.0, -0.5, 0.25];
    let (_, _, hv) = unmixing_loss_hvp(&log_c, &spectra, &absorbance, &dir);
    hvp_against_fd(
        "unmixing",
        |l| unmixing_loss_grad(l, &spectra, &absorbance).1,
        &log_c,
        &dir,
        &hv,
    );
    // At the true concentrations the residuals and the gradient vanish.
    let truth: Vec<f64> = [0.4f64, 1.1, 0.7].iter().map(|c| c.ln()).collect();
    let (v0, g0) = unmixing_loss_grad(&truth, &spectra, &absorbance);
    assert!(v0 < 1e-28 && g0.iter().all(|g| g.abs() < 1e-13));
}

/// A loan's level payment, r L / (1 − (1 + r)⁻ⁿ), and the total interest paid over its term.
#[differentiate(hessian, wrt(rate, principal))]
fn total_interest(rate: f64, principal: f64, months: i32) -> f64 {
    let payment = rate * principal / (1.0 - (1.0 + rate).powi(-months));
    payment * months as f64 - principal
}

#[test]
fn amortised_loan_interest() {
    // The principal in thousands, which keeps the finite differences of a value near 10⁵ out
    // of rounding noise.
    let (r, l, n) = (0.004, 250.0, 360);
    let (v, (gr, gl)) = total_interest_grad(r, l, n);
    close("value", v, total_interest(r, l, n), TOL);
    // P = rL/(1 − q), q = (1 + r)⁻ⁿ: ∂P/∂r = L/(1 − q) − rL·n(1 + r)⁻ⁿ⁻¹/(1 − q)², ∂P/∂L = P/L
    let q = (1.0f64 + r).powi(-n);
    let p = r * l / (1.0 - q);
    let dp = l / (1.0 - q) - r * l * n as f64 * (1.0f64 + r).powi(-n - 1) / (1.0 - q).powi(2);
    close("∂r", gr, dp * n as f64, 1e-10);
    close("∂L", gl, p / l * n as f64 - 1.0, 1e-12);
    fd2("loan", |a, b| total_interest(a, b, n), (r, l), (gr, gl));
    // Linear in L: ∂²L = 0
    let (_, _, (hr, hl)) = total_interest_hvp(r, l, n, 0.0, 1.0);
    close("∂²L", hl, 0.0, TOL);
    close("∂²L∂r", hr, dp * n as f64 / l, 1e-10);
}

/// The area-weighted centroid of a polygon with a fixed number of vertices (a const generic).
#[differentiate]
fn polygon_centroid_x<const N: usize>(pts: [[f64; 2]; N]) -> f64 {
    let (mut a, mut cx) = (0.0, 0.0);
    for i in 0..N {
        let (p, q) = (pts[i], pts[(i + 1) % N]);
        let cross = p[0] * q[1] - q[0] * p[1];
        a += cross;
        cx += (p[0] + q[0]) * cross;
    }
    cx / (3.0 * a)
}

#[test]
fn polygon_centroid_with_a_const_generic() {
    // For a triangle the centroid is the mean of the corners: ∂xᵢ = 1/3, ∂yᵢ = 0.
    let tri = [[0.0, 0.0], [2.0, 0.5], [0.7, 1.6]];
    let (v, g) = polygon_centroid_x_grad(tri);
    close("value", v, (0.0 + 2.0 + 0.7) / 3.0, 1e-12);
    for i in 0..3 {
        close("∂x", g[i][0], 1.0 / 3.0, 1e-12);
        close("∂y", g[i][1], 0.0, 1e-12);
    }
    let quad = [[0.0, 0.0], [2.0, 0.1], [2.3, 1.5], [0.2, 1.2]];
    let (v, g) = polygon_centroid_x_grad(quad);
    close("quad value", v, polygon_centroid_x(quad), TOL);
    let r = gradcheck(|p: &[[f64; 2]; 4]| polygon_centroid_x(*p), &quad, &g);
    assert!(r.passed(), "{r}");
    // Translating the polygon moves its centroid with it: Σ∂xᵢ = 1, Σ∂yᵢ = 0.
    close("Σ∂x", g.iter().map(|p| p[0]).sum(), 1.0, 1e-12);
    close("Σ∂y", g.iter().map(|p| p[1]).sum(), 0.0, 1e-12);
}

/// A consecutive reaction A → B → C by Euler steps, the intermediate B fitted to data.
#[differentiate(wrt(k1, k2))]
fn consecutive_reaction_fit(k1: f64, k2: f64, a0: f64, dt: f64, observed_b: &[f64]) -> f64 {
    let (mut a, mut b) = (a0, 0.0);
    let mut loss = 0.0;
    for &obs in observed_b {
        let (ra, rb) = (k1 * a, k2 * b);
        a -= ra * dt;
        b += (ra - rb) * dt;
        loss += (b - obs).powi(2);
    }
    loss
}

#[test]
fn consecutive_reaction_rates() {
    let observed: Vec<f64> = (1..=15)
        .map(|n| {
            let t = 0.2 * n as f64;
            2.0 * ((-0.5 * t).exp() - (-1.5 * t).exp())
        })
        .collect();
    let (k1, k2) = (1.2, 0.6);
    let (v, (g1, g2)) = consecutive_reaction_fit_grad(k1, k2, 1.0, 0.2, &observed);
    close(
        "value",
        v,
        consecutive_reaction_fit(k1, k2, 1.0, 0.2, &observed),
        TOL,
    );
    fd2(
        "reaction",
        |a, b| consecutive_reaction_fit(a, b, 1.0, 0.2, &observed),
        (k1, k2),
        (g1, g2),
    );
    // With k₂ = 0, bₙ = a₀(1 − (1 − k₁dt)ⁿ): ∂k₁ = Σ 2(bₙ − oₙ) a₀ n dt (1 − k₁dt)ⁿ⁻¹
    let (_, (e1, _)) = consecutive_reaction_fit_grad(k1, 0.0, 1.0, 0.2, &observed);
    let m = 1.0 - k1 * 0.2;
    let e: f64 = (1..=15)
        .map(|n| {
            let b = 1.0 - m.powi(n);
            2.0 * (b - observed[n as usize - 1]) * n as f64 * 0.2 * m.powi(n - 1)
        })
        .sum();
    close("∂k₁ at k₂ = 0", e1, e, 1e-12);
}

/// A heater with hysteresis: the temperature when it last switched on kept in an
/// `Option<f64>` (cleared when it switches off), read in a `match` guard and by `unwrap_or`.
#[differentiate]
fn hysteresis_cost(temps: &[f64], setpoint: f64, band: f64) -> f64 {
    let mut switched_on: Option<f64> = None;
    let mut cost = 0.0;
    for (t, &x) in temps.iter().enumerate() {
        cost += match t % 2 {
            0 if switched_on.is_some() => (x - switched_on.unwrap_or(setpoint)).powi(2),
            _ => 0.1 * (x - setpoint).powi(2),
        };
        if x < setpoint - band {
            switched_on = Some(x);
        } else if x > setpoint + band {
            switched_on = None;
        }
    }
    cost
}

#[test]
fn hysteresis_with_an_option_read_in_a_match_guard() {
    let temps = vec![19.0, 18.2, 18.9, 20.5, 21.3, 19.6, 18.4, 19.1, 19.8];
    let (s, band) = (19.5, 0.8);
    let (v, (gt, gs, gb)) = hysteresis_cost_grad(&temps, s, band);
    close("value", v, hysteresis_cost(&temps, s, band), TOL);
    // The same walk by hand, with the index of the sample the heater switched on at:
    // (x_t − x_on)² adds ±2(x_t − x_on); 0.1(x_t − s)² adds 0.2(x_t − s) to x_t and its
    // opposite to s.
    let (mut et, mut es) = (vec![0.0; temps.len()], 0.0);
    let mut on: Option<usize> = None;
    for (t, &x) in temps.iter().enumerate() {
        match (t % 2, on) {
            (0, Some(k)) => {
                et[t] += 2.0 * (x - temps[k]);
                et[k] -= 2.0 * (x - temps[k]);
            }
            _ => {
                et[t] += 0.2 * (x - s);
                es -= 0.2 * (x - s);
            }
        }
        if x < s - band {
            on = Some(t);
        } else if x > s + band {
            on = None;
        }
    }
    close_all("∂temps", &gt, &et);
    close("∂setpoint", gs, es, 1e-12);
    close("∂band", gb, 0.0, TOL);
    fd_vec("∂temps", |t| hysteresis_cost(t, s, band), &temps, &gt);
}
