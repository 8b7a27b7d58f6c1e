//! Computer vision and geometry as Rust engineers write it: bundle adjustment as ADBench
//! defines it (Rodrigues rotation of a point by an angle-axis `[f64; 3]`, two-coefficient radial
//! distortion, projection, reprojection and weight errors over observations indexed by camera
//! and point ids in `Vec<usize>`), triangulation from two `3×4` cameras iterated as an array of
//! `(camera, observation)` tuples (and the other forms of tuples holding borrows: `vec![..]`,
//! ranges of a slice, local arrays, a struct's fields; tuples holding indices or index sets
//! beside floats), a triangle's vertices, a mesh's anchor
//! and skinning bones copied out of a nested array or a field before the loop that reads them,
//! volume rendering along a ray, ICP point-to-plane residuals, Horn–Schunck energy over an
//! `Array2` grid, and a photometric loss in `f32`.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's. Some also have their forward mode (`_jvp`) or Hessian-vector products (`_hvp`)
//! checked against finite differences.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::type_complexity,
    clippy::too_many_arguments,
    clippy::excessive_precision
)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};
use ndarray::{Array2, s};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// Arrays of `(camera, observation)` tuples.
// ---------------------------------------------------------------------------------------------

/// A point seen by two cameras, its reprojection error summed over the pairs of a camera
/// matrix (lent) and the pixel it saw, iterated as a literal array of tuples. With `h = P·[x; 1]`
/// for each camera, `E = Σ (h₀/h₂ − u₀)² + (h₁/h₂ − u₁)²`, and
/// `∂E/∂x_j = Σ 2(h₀/h₂ − u₀)(P₀ⱼ h₂ − P₂ⱼ h₀)/h₂² + 2(h₁/h₂ − u₁)(P₁ⱼ h₂ − P₂ⱼ h₁)/h₂²`.
#[differentiate(wrt(x))]
fn triangulate(
    x: [f64; 3],
    p1: &[[f64; 4]; 3],
    p2: &[[f64; 4]; 3],
    u1: [f64; 2],
    u2: [f64; 2],
) -> f64 {
    let mut e = 0.0;
    for (p, u) in [(p1, u1), (p2, u2)] {
        let h: Vec<f64> = (0..3)
            .map(|r| p[r][0] * x[0] + p[r][1] * x[1] + p[r][2] * x[2] + p[r][3])
            .collect();
        e += (h[0] / h[2] - u[0]).powi(2) + (h[1] / h[2] - u[1]).powi(2);
    }
    e
}

/// The same error with the cameras differentiated too (the tuples hold borrows of active
/// arrays), bound by a `let` before the loop.
#[differentiate]
fn triangulate_all(
    x: [f64; 3],
    p1: &[[f64; 4]; 3],
    p2: &[[f64; 4]; 3],
    u1: [f64; 2],
    u2: [f64; 2],
) -> f64 {
    let views = [(p1, u1), (p2, u2)];
    let mut e = 0.0;
    for (p, u) in views {
        let h: Vec<f64> = (0..3)
            .map(|r| p[r][0] * x[0] + p[r][1] * x[1] + p[r][2] * x[2] + p[r][3])
            .collect();
        e += (h[0] / h[2] - u[0]).powi(2) + (h[1] / h[2] - u[1]).powi(2);
    }
    e
}

/// The analytic gradient of [`triangulate`] in `x`, and of one camera's term in its matrix:
/// `∂E/∂P₀ⱼ = 2(h₀/h₂ − u₀)·X̃ⱼ/h₂`, `∂E/∂P₁ⱼ = 2(h₁/h₂ − u₁)·X̃ⱼ/h₂`,
/// `∂E/∂P₂ⱼ = −2[(h₀/h₂ − u₀)h₀ + (h₁/h₂ − u₁)h₁]·X̃ⱼ/h₂²` with `X̃ = [x; 1]`.
fn triangulation_gradients(
    x: [f64; 3],
    cams: [(&[[f64; 4]; 3], [f64; 2]); 2],
) -> ([f64; 3], [[[f64; 4]; 3]; 2]) {
    let xt = [x[0], x[1], x[2], 1.0];
    let mut gx = [0.0; 3];
    let mut gp = [[[0.0; 4]; 3]; 2];
    for (c, (p, u)) in cams.iter().enumerate() {
        let h: Vec<f64> = (0..3)
            .map(|r| (0..4).map(|j| p[r][j] * xt[j]).sum())
            .collect();
        let (r0, r1) = (h[0] / h[2] - u[0], h[1] / h[2] - u[1]);
        for j in 0..3 {
            gx[j] += 2.0 * r0 * (p[0][j] * h[2] - p[2][j] * h[0]) / (h[2] * h[2])
                + 2.0 * r1 * (p[1][j] * h[2] - p[2][j] * h[1]) / (h[2] * h[2]);
        }
        for j in 0..4 {
            gp[c][0][j] = 2.0 * r0 * xt[j] / h[2];
            gp[c][1][j] = 2.0 * r1 * xt[j] / h[2];
            gp[c][2][j] = -2.0 * (r0 * h[0] + r1 * h[1]) * xt[j] / (h[2] * h[2]);
        }
    }
    (gx, gp)
}

#[test]
fn triangulation_over_an_array_of_camera_and_pixel_tuples() {
    let p1 = [
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
    ];
    let p2 = [
        [0.9, 0.0, 0.1, -1.0],
        [0.0, 1.0, 0.0, 0.0],
        [-0.1, 0.0, 0.9, 0.0],
    ];
    let (u1, u2) = ([0.12, 0.05], [-0.2, 0.06]);
    let x = [0.3, 0.2, 3.0];
    let (gx_exp, gp_exp) = triangulation_gradients(x, [(&p1, u1), (&p2, u2)]);

    let (v, g) = triangulate_grad(x, &p1, &p2, u1, u2);
    assert_eq!(v, triangulate(x, &p1, &p2, u1, u2));
    close_all("∂E/∂x", &g, &gx_exp);
    let r = gradcheck(|x: &[f64; 3]| triangulate(*x, &p1, &p2, u1, u2), &x, &g);
    assert!(r.passed(), "{r}");
    let dx = [0.1, -0.2, 0.3];
    let (_, t) = triangulate_jvp(x, &p1, &p2, u1, u2, dx);
    let expected: f64 = (0..3).map(|j| gx_exp[j] * dx[j]).sum();
    close("jvp", t, expected, TOL);

    let (v, (gx, gp1, gp2, _, _)) = triangulate_all_grad(x, &p1, &p2, u1, u2);
    assert_eq!(v, triangulate_all(x, &p1, &p2, u1, u2));
    close_all("∂E/∂x (all)", &gx, &gx_exp);
    for (c, gp) in [gp1, gp2].iter().enumerate() {
        for r in 0..3 {
            close_all(&format!("∂E/∂P{c}[{r}]"), &gp[r], &gp_exp[c][r]);
        }
    }
    let r = gradcheck(
        |p: &[[f64; 4]; 3]| triangulate_all(x, &p1, p, u1, u2),
        &p2,
        &gp2,
    );
    assert!(r.passed(), "{r}");
}

/// A tuple array over ranges of one slice beside their weights: `L = u·Σx[..2] + v·Σx[2..]`,
/// so `∂L/∂x = [u, u, v, v]`, `∂L/∂u = Σx[..2]`, `∂L/∂v = Σx[2..]`; also at the head of a
/// chain.
#[differentiate]
fn weighted_halves(x: &[f64], u: f64, v: f64) -> f64 {
    let mut e = 0.0;
    for (p, w) in [(&x[..2], u), (&x[2..], v)] {
        e += p.iter().sum::<f64>() * w;
    }
    e
}

#[differentiate]
fn weighted_halves_chain(x: &[f64], u: f64, v: f64) -> f64 {
    [(&x[..2], u), (&x[2..], v)]
        .iter()
        .map(|(p, w)| p.iter().map(|a| a * a).sum::<f64>() * w)
        .sum()
}

#[test]
fn tuples_of_slice_ranges_and_weights() {
    let x = [1.0, 2.0, 3.0, 4.0];
    let (v, (gx, gu, gv)) = weighted_halves_grad(&x, 2.0, 3.0);
    assert_eq!(v, weighted_halves(&x, 2.0, 3.0));
    close_all("∂L/∂x", &gx, &[2.0, 2.0, 3.0, 3.0]);
    close2("∂L/∂(u, v)", (gu, gv), (3.0, 7.0));
    fd_vec("∂L/∂x", |x| weighted_halves(x, 2.0, 3.0), &x, &gx);
    // L = u·Σx[..2]² + v·Σx[2..]²: ∂L/∂x = [2u x₀, 2u x₁, 2v x₂, 2v x₃].
    let (v, (gx, gu, gv)) = weighted_halves_chain_grad(&x, 2.0, 3.0);
    assert_eq!(v, weighted_halves_chain(&x, 2.0, 3.0));
    close_all("∂L/∂x (chain)", &gx, &[4.0, 8.0, 18.0, 24.0]);
    close2("∂L/∂(u, v) (chain)", (gu, gv), (5.0, 25.0));
    fd_vec(
        "∂L/∂x (chain)",
        |x| weighted_halves_chain(x, 2.0, 3.0),
        &x,
        &gx,
    );
    fd2(
        "∂L/∂(u, v) (chain)",
        |u, v| weighted_halves_chain(&x, u, v),
        (2.0, 3.0),
        (gu, gv),
    );
}

/// Two views of local arrays, each borrowed beside its weight: with `ra = [2a₀, a₁, a₂]` and
/// `rb = [b₀, w b₁, b₂]`, `E = (2a₀a₁ + a₂) + w(w b₀b₁ + b₂)`, so `∂E/∂a = [2a₁, 2a₀, 1]`,
/// `∂E/∂b = [w²b₁, w²b₀, w]`, `∂E/∂w = 2w b₀b₁ + b₂`.
#[differentiate]
fn two_views(a: [f64; 3], b: [f64; 3], w: f64) -> f64 {
    let ra = [a[0] * 2.0, a[1], a[2]];
    let rb = [b[0], b[1] * w, b[2]];
    let mut e = 0.0;
    for (v, s) in [(&ra, 1.0), (&rb, w)] {
        e += s * (v[0] * v[1] + v[2]);
    }
    e
}

#[test]
fn tuples_of_borrowed_local_arrays() {
    let (a, b, w) = ([0.1, 0.2, 0.3], [0.4, 0.5, 0.6], 1.5);
    let (v, (ga, gb, gw)) = two_views_grad(a, b, w);
    assert_eq!(v, two_views(a, b, w));
    close_all("∂E/∂a", &ga, &[2.0 * a[1], 2.0 * a[0], 1.0]);
    close_all("∂E/∂b", &gb, &[w * w * b[1], w * w * b[0], w]);
    close("∂E/∂w", gw, 2.0 * w * b[0] * b[1] + b[2], TOL);
    let r = gradcheck(
        |p: &([f64; 3], [f64; 3], f64)| two_views(p.0, p.1, p.2),
        &(a, b, w),
        &(ga, gb, gw),
    );
    assert!(r.passed(), "{r}");
}

/// A stereo rig whose two cameras' offsets are fields, borrowed beside their weights in a
/// method: `E = w·a₀a₁ + s·b₀b₁`, so `∂E/∂a = w[a₁, a₀]`, `∂E/∂b = s[b₁, b₀]`, `∂E/∂s = b₀b₁`,
/// `∂E/∂w = a₀a₁`.
#[derive(Clone, Debug, Differentiable)]
pub struct Rig {
    pub a: [f64; 2],
    pub b: [f64; 2],
    pub s: f64,
}

#[differentiate]
impl Rig {
    fn energy(&self, w: f64) -> f64 {
        let mut e = 0.0;
        for (p, k) in [(&self.a, w), (&self.b, self.s)] {
            e += k * p[0] * p[1];
        }
        e
    }
}

#[test]
fn tuples_of_borrowed_fields_in_a_method() {
    let rig = Rig {
        a: [1.0, 2.0],
        b: [3.0, 4.0],
        s: 0.5,
    };
    let w = 2.0;
    let (v, (g, gw)) = rig.energy_grad(w);
    assert_eq!(v, rig.energy(w));
    close_all("∂E/∂a", &g.a, &[w * 2.0, w * 1.0]);
    close_all("∂E/∂b", &g.b, &[0.5 * 4.0, 0.5 * 3.0]);
    close("∂E/∂s", g.s, 12.0, TOL);
    close("∂E/∂w", gw, 2.0, TOL);
    let flat = |r: &Rig| vec![r.a[0], r.a[1], r.b[0], r.b[1], r.s];
    let r = gradcheck(
        |p: &Vec<f64>| {
            Rig {
                a: [p[0], p[1]],
                b: [p[2], p[3]],
                s: p[4],
            }
            .energy(w)
        },
        &flat(&rig),
        &flat(&g),
    );
    assert!(r.passed(), "{r}");
}

/// `Clone::clone(&x)` written through the trait's path, as `x.clone()`: `E = (a₀w)·a₁`, so
/// `∂E/∂a = [w a₁, w a₀, 0]`, `∂E/∂w = a₀a₁`.
#[differentiate]
fn cloned_by_path(a: [f64; 3], w: f64) -> f64 {
    let ra = [a[0] * w, a[1], a[2]];
    let c = Clone::clone(&ra);
    let d = std::clone::Clone::clone(&c);
    d[0] * c[1]
}

#[test]
fn clone_called_through_its_trait_path() {
    let (a, w) = ([1.0, 2.0, 3.0], 2.0);
    let (v, (ga, gw)) = cloned_by_path_grad(a, w);
    assert_eq!(v, cloned_by_path(a, w));
    close_all("∂E/∂a", &ga, &[w * a[1], w * a[0], 0.0]);
    close("∂E/∂w", gw, a[0] * a[1], TOL);
    let r = gradcheck(
        |p: &([f64; 3], f64)| cloned_by_path(p.0, p.1),
        &(a, w),
        &(ga, gw),
    );
    assert!(r.passed(), "{r}");
    let (_, t) = cloned_by_path_jvp(a, w, [0.5, 0.0, 1.0], 0.25);
    close("jvp", t, 0.5 * w * a[1] + 0.25 * a[0] * a[1], TOL);
}

/// Two cameras' principal rows lent beside their weights in the other forms a user writes:
/// `vec![(a, u), (b, v)]`, the borrows zipped with the weights (`[a, b].iter().zip([u, v])`),
/// and a tuple of two borrows. With `E = x(u a₀a₁ + v b₀b₁)`: `∂E/∂x = u a₀a₁ + v b₀b₁`,
/// `∂E/∂a = xu[a₁, a₀]`, `∂E/∂b = xv[b₁, b₀]`, `∂E/∂u = x a₀a₁`, `∂E/∂v = x b₀b₁`.
#[differentiate]
fn weighted_views_vec(x: f64, a: &[f64; 2], b: &[f64; 2], u: f64, v: f64) -> f64 {
    let mut e = 0.0;
    for (p, w) in vec![(a, u), (b, v)] {
        e += x * p[0] * w * p[1];
    }
    e
}

#[differentiate]
fn weighted_views_zip(x: f64, a: &[f64; 2], b: &[f64; 2], u: f64, v: f64) -> f64 {
    let mut e = 0.0;
    for (p, w) in [a, b].iter().zip([u, v]) {
        e += x * p[0] * w * p[1];
    }
    e
}

/// `E = x(a₀c₁ + b₀d₁)`: `∂E/∂a = [x c₁, 0]`, `∂E/∂c = [0, x a₀]`, and so for `b`, `d`.
#[differentiate]
fn paired_views(x: f64, a: &[f64; 2], b: &[f64; 2], c: &[f64; 2], d: &[f64; 2]) -> f64 {
    let mut e = 0.0;
    for (p, q) in [(a, c), (b, d)] {
        e += x * p[0] * q[1];
    }
    e
}

#[test]
fn borrowed_views_in_vec_zip_and_pairs() {
    let (x, a, b, u, v) = (1.5, [1.0, 2.0], [3.0, 4.0], 2.0, 3.0);
    let expected = (
        u * a[0] * a[1] + v * b[0] * b[1],
        [x * u * a[1], x * u * a[0]],
        [x * v * b[1], x * v * b[0]],
        x * a[0] * a[1],
        x * b[0] * b[1],
    );
    type G = (f64, [f64; 2], [f64; 2], f64, f64);
    let check = |what: &str, g: G, f: &dyn Fn(f64, &[f64; 2], &[f64; 2], f64, f64) -> f64| {
        close(&format!("{what} ∂x"), g.0, expected.0, TOL);
        close_all(&format!("{what} ∂a"), &g.1, &expected.1);
        close_all(&format!("{what} ∂b"), &g.2, &expected.2);
        close2(
            &format!("{what} ∂(u, v)"),
            (g.3, g.4),
            (expected.3, expected.4),
        );
        let r = gradcheck(|p: &G| f(p.0, &p.1, &p.2, p.3, p.4), &(x, a, b, u, v), &g);
        assert!(r.passed(), "{what}: {r}");
    };
    let (val, g) = weighted_views_vec_grad(x, &a, &b, u, v);
    assert_eq!(val, weighted_views_vec(x, &a, &b, u, v));
    check("vec!", g, &weighted_views_vec);
    let (val, g) = weighted_views_zip_grad(x, &a, &b, u, v);
    assert_eq!(val, weighted_views_zip(x, &a, &b, u, v));
    check("zip", g, &weighted_views_zip);

    let (c, d) = ([5.0, 6.0], [7.0, 8.0]);
    let (val, (gx, ga, gb, gc, gd)) = paired_views_grad(x, &a, &b, &c, &d);
    assert_eq!(val, paired_views(x, &a, &b, &c, &d));
    close("∂x", gx, a[0] * c[1] + b[0] * d[1], TOL);
    close_all("∂a", &ga, &[x * c[1], 0.0]);
    close_all("∂b", &gb, &[x * d[1], 0.0]);
    close_all("∂c", &gc, &[0.0, x * a[0]]);
    close_all("∂d", &gd, &[0.0, x * b[0]]);
    let r = gradcheck(|p: &[f64; 2]| paired_views(x, &a, &b, &c, p), &d, &gd);
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Arrays of tuples holding integers beside floats.
// ---------------------------------------------------------------------------------------------

/// Weights picked by index, each with its own scale, iterated as `(index, scale)` tuples:
/// `f = w₀w₂ + w₁w₃`, `∇f = (w₂, w₃, w₀, w₁)`. A tuple of an integer and a float has no
/// gradient type: the loop was rustc's "`(usize, f64)` is not differentiable" in the generated
/// code; it is followed as the loop over the positions' arrays.
#[differentiate(hessian)]
fn picks(w: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, c) in [(2usize, w[0]), (3, w[1])] {
        s += c * w[i];
    }
    s
}

/// An index given by a parameter beside a literal one: `f = w₁w₀ + w₂wₙ`.
#[differentiate(wrt(w))]
fn offset_picks(w: &[f64], n: usize) -> f64 {
    let mut s = 0.0;
    for (i, c) in [(0, w[1]), (n, w[2])] {
        s += c * w[i];
    }
    s
}

/// Index sets given as slices of integers beside a scale each, over `&[..]` with a `&(..)`
/// pattern, with a `continue` and a labeled `break` inside:
/// `f = w₀·Σ_{i∈a, i≠1} wᵢ² + w₁·Σ_{i∈b, until 9} wᵢ²` (here no index is 9).
#[differentiate(wrt(w))]
fn index_sets(w: &[f64], a: &[usize], b: &[usize]) -> f64 {
    let mut s = 0.0;
    'sets: for &(idx, scale) in &[(a, w[0]), (b, w[1])] {
        for &i in idx {
            if i == 1 {
                continue;
            }
            if i == 9 {
                break 'sets;
            }
            s += scale * w[i] * w[i];
        }
    }
    s
}

/// `vec![..]` of `(offset, sign, value)` tuples, nested in a loop of the same form:
/// `f = Σ_{(o, σ, v)} Σ_{(k, u)} σ·v·u·w_{o+k}` with `(o, σ, v) ∈ {(0, 1, x), (1, −1, y)}` and
/// `(k, u) ∈ {(0, x·y), (2, 1)}`.
#[differentiate]
fn signed_offsets(x: f64, y: f64, w: &[f64]) -> f64 {
    let mut s = 0.0;
    for (o, sign, v) in vec![(0usize, 1.0, x), (1, -1.0, y)] {
        for &(k, u) in [(0usize, x * y), (2, 1.0)].iter() {
            s += sign * v * u * w[o + k];
        }
    }
    s
}

#[test]
fn tuples_of_integers_and_floats() {
    let w = [0.3, -1.2, 2.1, 0.7];
    let (v, g) = picks_grad(&w);
    close("picks", v, picks(&w), TOL);
    close_all("∇picks", &g, &[w[2], w[3], w[0], w[1]]);
    fd_vec("picks", |p| picks(p), &w, &g);
    let dir = [0.5, -0.25, 1.0, 0.75];
    let (_, gh, hv) = picks_hvp(&w, &dir.to_vec());
    close_all("_hvp's gradient", &gh, &g);
    // ∇²f·v = (v₂, v₃, v₀, v₁).
    close_all("∇²picks·v", &hv, &[dir[2], dir[3], dir[0], dir[1]]);

    let (v, g) = offset_picks_grad(&w, 3);
    close("offset picks", v, offset_picks(&w, 3), TOL);
    close_all("∇offset picks", &g, &[w[1], w[0], w[3], w[2]]);
    fd_vec("offset picks", |p| offset_picks(p, 3), &w, &g);

    let w = [0.3, -1.2, 2.1, 0.7, 1.4];
    let (a, b) = (vec![0usize, 1, 4], vec![2usize, 3]);
    let (v, g) = index_sets_grad(&w, &a, &b);
    close("index sets", v, index_sets(&w, &a, &b), TOL);
    let sa = w[0] * w[0] + w[4] * w[4];
    let sb = w[2] * w[2] + w[3] * w[3];
    let expected = [
        sa + w[0] * 2.0 * w[0],
        sb,
        w[1] * 2.0 * w[2],
        w[1] * 2.0 * w[3],
        w[0] * 2.0 * w[4],
    ];
    close_all("∇index sets", &g, &expected);
    fd_vec("index sets", |p| index_sets(p, &a, &b), &w, &g);

    let (x, y) = (0.7, -0.4);
    let w = [0.3, -1.2, 2.1, 0.7];
    let (v, (gx, gy, gw)) = signed_offsets_grad(x, y, &w);
    close("signed offsets", v, signed_offsets(x, y, &w), TOL);
    // f = x(xy·w₀ + w₂) − y(xy·w₁ + w₃).
    close("∂x", gx, 2.0 * x * y * w[0] + w[2] - y * y * w[1], TOL);
    close("∂y", gy, x * x * w[0] - 2.0 * x * y * w[1] - w[3], TOL);
    close_all("∂w", &gw, &[x * x * y, -y * x * y, x, -y]);
    let r = jvpcheck(
        |p: &(f64, f64)| signed_offsets(p.0, p.1, &w),
        &(x, y),
        &(0.3, -0.8),
        &signed_offsets_jvp(x, y, &w, 0.3, -0.8, &vec![0.0; 4]).1,
    );
    assert!(r.passed(), "signed offsets, jvp: {r}");
}

// ---------------------------------------------------------------------------------------------
// Rows of a nested array copied out before a loop that reads their elements.
// ---------------------------------------------------------------------------------------------

/// A triangle's vertices bound by `let [a, b, c] = tri;`, read element by element in a loop
/// over the observations: `E = a₀ Σ (b₀ − x)(c₁ − y)`, so `∂E/∂a₀ = Σ (b₀ − x)(c₁ − y)`,
/// `∂E/∂b₀ = a₀ Σ (c₁ − y)`, `∂E/∂c₁ = a₀ Σ (b₀ − x)`, and zero for the other coordinates.
#[differentiate(wrt(tri))]
fn vertices_destructured(tri: [[f64; 2]; 3], obs: &[[f64; 2]]) -> f64 {
    let [a, b, c] = tri;
    let mut e = 0.0;
    for &[x, y] in obs {
        e += (b[0] - x) * (c[1] - y) * a[0];
    }
    e
}

/// The same rows taken by index, `let a = tri[0];`, in a loop that is not a sum:
/// `e ← e·a₀ + a₁` twice from 1, `E = a₀² + a₀a₁ + a₁`, so `∂E/∂a = [2a₀ + a₁, a₀ + 1]`.
#[differentiate]
fn rows_by_index(tri: [[f64; 2]; 3], n: usize) -> f64 {
    let a = tri[0];
    let mut e = 1.0;
    for _ in 0..n {
        e = e * a[0] + a[1];
    }
    e
}

/// A borrowed table's row copied out, read in a `while` loop and after a branch:
/// `E = 3a₀x + a₁` for `x > 0`, so `∂E/∂a = [3x, 1]`, `∂E/∂x = 3a₀`.
#[differentiate]
fn row_in_while(t: &[[f64; 2]], x: f64) -> f64 {
    let a = t[0];
    let mut e = 0.0;
    let mut k = 0;
    while k < 3 {
        e += a[0] * x;
        k += 1;
    }
    if x > 0.0 { e + a[1] } else { e }
}

#[test]
fn rows_copied_out_of_a_nested_array_before_a_loop() {
    let tri = [[3.0, 4.0], [5.0, 1.0], [6.0, 7.0]];
    let obs = [[1.0, 2.0], [0.5, 0.25], [-0.5, 1.5]];
    let (bx, cy) = (tri[1][0], tri[2][1]);
    let s: f64 = obs.iter().map(|o| (bx - o[0]) * (cy - o[1])).sum();
    let sb: f64 = obs.iter().map(|o| cy - o[1]).sum();
    let sc: f64 = obs.iter().map(|o| bx - o[0]).sum();
    let (v, g) = vertices_destructured_grad(tri, &obs);
    assert_eq!(v, vertices_destructured(tri, &obs));
    close_all("∂E/∂a", &g[0], &[s, 0.0]);
    close_all("∂E/∂b", &g[1], &[tri[0][0] * sb, 0.0]);
    close_all("∂E/∂c", &g[2], &[0.0, tri[0][0] * sc]);
    let r = gradcheck(
        |t: &[[f64; 2]; 3]| vertices_destructured(*t, &obs),
        &tri,
        &g,
    );
    assert!(r.passed(), "{r}");
    let dt = [[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]];
    let (_, t) = vertices_destructured_jvp(tri, &obs, dt);
    close(
        "jvp",
        t,
        s * dt[0][0] + tri[0][0] * (sb * dt[1][0] + sc * dt[2][1]),
        TOL,
    );

    let tri = [[2.0, 1.0], [0.0, 3.0], [1.0, 1.0]];
    let (v, g) = rows_by_index_grad(tri, 2);
    assert_eq!(v, rows_by_index(tri, 2));
    close_all("∂E/∂a", &g[0], &[2.0 * 2.0 + 1.0, 2.0 + 1.0]);
    close_all("∂E/∂b", &g[1], &[0.0, 0.0]);
    let r = gradcheck(|t: &[[f64; 2]; 3]| rows_by_index(*t, 2), &tri, &g);
    assert!(r.passed(), "{r}");

    let t = vec![[2.0, 1.0], [0.0, 3.0]];
    let x = 2.0;
    let (v, (g, gx)) = row_in_while_grad(&t, x);
    assert_eq!(v, row_in_while(&t, x));
    close_all("∂E/∂t[0]", &g[0], &[3.0 * x, 1.0]);
    close_all("∂E/∂t[1]", &g[1], &[0.0, 0.0]);
    close("∂E/∂x", gx, 3.0 * t[0][0], TOL);
    let r = gradcheck(|t: &Vec<[f64; 2]>| row_in_while(t, x), &t, &g);
    assert!(r.passed(), "{r}");
}

/// A mesh whose first vertex is copied out of a field, `let a = self.v[0];`, and a scale read
/// whole: `E = Σₓ (a₀ x s₁ + a₁)`, so `∂E/∂v[0] = [s₁ Σx, n]`, `∂E/∂s₁ = a₀ Σx`,
/// `∂E/∂x = a₀ s₁` for each `x`.
#[derive(Clone, Debug, Differentiable)]
pub struct Mesh {
    pub v: Vec<[f64; 2]>,
    pub s: [f64; 2],
}

#[differentiate]
impl Mesh {
    fn anchored(&self, xs: &[f64]) -> f64 {
        let a = self.v[0];
        let s = self.s;
        let mut e = 0.0;
        for x in xs {
            e += a[0] * x * s[1] + a[1];
        }
        e
    }
}

/// A field borrowed by a local before a loop, `let w = &p.w;`, and a row of another field,
/// `let r = p.m[1];`: `E = r₀ Σ wᵢxᵢ` summed, then a product over a loop that is not a sum,
/// `P = Π (1 + wᵢ r₁)`. `∂E/∂w = r₀x`, `∂E/∂m[1][0] = Σ wᵢxᵢ`;
/// `∂P/∂wᵢ = r₁ P/(1 + wᵢr₁)`, `∂P/∂m[1][1] = Σ wᵢ P/(1 + wᵢr₁)`.
#[derive(Clone, Debug, Differentiable)]
pub struct Lin {
    pub w: Vec<f64>,
    pub m: [[f64; 2]; 2],
}

#[differentiate(wrt(p))]
fn lin_sum(p: &Lin, xs: &[f64]) -> f64 {
    let w = &p.w;
    let r = p.m[1];
    let mut e = 0.0;
    for i in 0..xs.len() {
        e += w[i] * xs[i] * r[0];
    }
    e
}

#[differentiate]
fn lin_product(p: &Lin) -> f64 {
    let w = &p.w;
    let r = p.m[1];
    let mut e = 1.0;
    for i in 0..w.len() {
        e = e * (1.0 + w[i] * r[1]);
    }
    e
}

#[test]
fn fields_and_their_rows_read_by_element_in_a_loop() {
    let mesh = Mesh {
        v: vec![[2.0, 1.0], [0.5, 0.25]],
        s: [0.0, 3.0],
    };
    let xs = [1.0, 2.0, 3.0];
    let sx: f64 = xs.iter().sum();
    let (v, (g, gx)) = mesh.anchored_grad(&xs);
    assert_eq!(v, mesh.anchored(&xs));
    close_all("∂E/∂v[0]", &g.v[0], &[mesh.s[1] * sx, xs.len() as f64]);
    close_all("∂E/∂v[1]", &g.v[1], &[0.0, 0.0]);
    close_all("∂E/∂s", &g.s, &[0.0, mesh.v[0][0] * sx]);
    close_all("∂E/∂x", &gx, &[mesh.v[0][0] * mesh.s[1]; 3]);
    let flat = |m: &Mesh| vec![m.v[0][0], m.v[0][1], m.v[1][0], m.v[1][1], m.s[0], m.s[1]];
    let of = |p: &Vec<f64>| Mesh {
        v: vec![[p[0], p[1]], [p[2], p[3]]],
        s: [p[4], p[5]],
    };
    let r = gradcheck(|p: &Vec<f64>| of(p).anchored(&xs), &flat(&mesh), &flat(&g));
    assert!(r.passed(), "{r}");

    let lin = Lin {
        w: vec![1.0, 2.0, 3.0],
        m: [[0.0, 0.0], [2.0, 0.5]],
    };
    let flat = |l: &Lin| {
        let mut v = l.w.clone();
        v.extend(l.m.iter().flatten());
        v
    };
    let of = |p: &Vec<f64>| Lin {
        w: p[..3].to_vec(),
        m: [[p[3], p[4]], [p[5], p[6]]],
    };
    let (v, g) = lin_sum_grad(&lin, &xs);
    assert_eq!(v, lin_sum(&lin, &xs));
    let wx: f64 = lin.w.iter().zip(&xs).map(|(w, x)| w * x).sum();
    close_all("∂E/∂w", &g.w, &[2.0, 4.0, 6.0]);
    close_all("∂E/∂m[1]", &g.m[1], &[wx, 0.0]);
    let r = gradcheck(|p: &Vec<f64>| lin_sum(&of(p), &xs), &flat(&lin), &flat(&g));
    assert!(r.passed(), "{r}");

    let (v, g) = lin_product_grad(&lin);
    assert_eq!(v, lin_product(&lin));
    let r1 = lin.m[1][1];
    let prod: f64 = lin.w.iter().map(|w| 1.0 + w * r1).product();
    let gw: Vec<f64> = lin.w.iter().map(|w| r1 * prod / (1.0 + w * r1)).collect();
    let gr1: f64 = lin.w.iter().map(|w| w * prod / (1.0 + w * r1)).sum();
    close_all("∂P/∂w", &g.w, &gw);
    close_all("∂P/∂m[1]", &g.m[1], &[0.0, gr1]);
    let r = gradcheck(|p: &Vec<f64>| lin_product(&of(p)), &flat(&lin), &flat(&g));
    assert!(r.passed(), "{r}");
}

/// Linear blend skinning with two bones' rotations copied out of a table before the loop,
/// `let b0 = bones[0];`, read as `b0[i][j]`: with `pₖ = Bₖ v`, `out = w₀p₀ + w₁p₁` and
/// `E = Σ_v |out|²`, `∂E/∂Bₖ[i][j] = Σ_v 2 out_i wₖ v_j`.
#[differentiate(wrt(bones))]
fn skin_copied_bones(bones: &[[[f64; 3]; 3]], verts: &[[f64; 3]], w: &[Vec<f64>]) -> f64 {
    let b0 = bones[0];
    let b1 = bones[1];
    let mut e = 0.0;
    for (v, wv) in verts.iter().zip(w) {
        let mut out = [0.0; 3];
        for i in 0..3 {
            let p0: f64 = (0..3).map(|j| b0[i][j] * v[j]).sum();
            let p1: f64 = (0..3).map(|j| b1[i][j] * v[j]).sum();
            out[i] = wv[0] * p0 + wv[1] * p1;
        }
        e += out.iter().map(|x| x * x).sum::<f64>();
    }
    e
}

#[test]
fn skinning_with_bones_copied_out_of_a_table() {
    let bones = vec![
        [[1.0, 0.1, 0.0], [-0.1, 1.0, 0.0], [0.0, 0.0, 1.0]],
        [[0.9, 0.0, 0.2], [0.0, 1.0, 0.0], [-0.2, 0.0, 0.9]],
    ];
    let w = vec![vec![0.7, 0.3], vec![0.4, 0.6]];
    let verts = vec![[1.0, 0.0, 0.5], [0.2, 0.8, -0.3]];
    let mut expected = vec![[[0.0; 3]; 3]; 2];
    for (v, wv) in verts.iter().zip(&w) {
        let out: Vec<f64> = (0..3)
            .map(|i| {
                (0..2)
                    .map(|k| wv[k] * (0..3).map(|j| bones[k][i][j] * v[j]).sum::<f64>())
                    .sum()
            })
            .collect();
        for k in 0..2 {
            for i in 0..3 {
                for j in 0..3 {
                    expected[k][i][j] += 2.0 * out[i] * wv[k] * v[j];
                }
            }
        }
    }
    let (val, g) = skin_copied_bones_grad(&bones, &verts, &w);
    assert_eq!(val, skin_copied_bones(&bones, &verts, &w));
    for k in 0..2 {
        for i in 0..3 {
            close_all(&format!("∂E/∂B{k}[{i}]"), &g[k][i], &expected[k][i]);
        }
    }
    let r = gradcheck(
        |b: &Vec<[[f64; 3]; 3]>| skin_copied_bones(b, &verts, &w),
        &bones,
        &g,
    );
    assert!(r.passed(), "{r}");
}

// ---------------------------------------------------------------------------------------------
// Bundle adjustment as ADBench defines it.
// ---------------------------------------------------------------------------------------------

/// A point rotated by the angle-axis `rot` (Rodrigues), with the first-order form at zero.
#[differentiate]
fn rodrigues_rotate_point(rot: &[f64; 3], x: &[f64; 3]) -> [f64; 3] {
    let sqtheta = rot[0] * rot[0] + rot[1] * rot[1] + rot[2] * rot[2];
    if sqtheta != 0.0 {
        let theta = sqtheta.sqrt();
        let costheta = theta.cos();
        let sintheta = theta.sin();
        let theta_inverse = 1.0 / theta;
        let w = [
            rot[0] * theta_inverse,
            rot[1] * theta_inverse,
            rot[2] * theta_inverse,
        ];
        let w_cross_x = [
            w[1] * x[2] - w[2] * x[1],
            w[2] * x[0] - w[0] * x[2],
            w[0] * x[1] - w[1] * x[0],
        ];
        let tmp = (w[0] * x[0] + w[1] * x[1] + w[2] * x[2]) * (1.0 - costheta);
        [
            x[0] * costheta + w_cross_x[0] * sintheta + w[0] * tmp,
            x[1] * costheta + w_cross_x[1] * sintheta + w[1] * tmp,
            x[2] * costheta + w_cross_x[2] * sintheta + w[2] * tmp,
        ]
    } else {
        let rot_cross_x = [
            rot[1] * x[2] - rot[2] * x[1],
            rot[2] * x[0] - rot[0] * x[2],
            rot[0] * x[1] - rot[1] * x[0],
        ];
        [
            x[0] + rot_cross_x[0],
            x[1] + rot_cross_x[1],
            x[2] + rot_cross_x[2],
        ]
    }
}

#[differentiate]
fn radial_distort(rad_params: &[f64; 2], proj: [f64; 2]) -> [f64; 2] {
    let rsq = proj[0] * proj[0] + proj[1] * proj[1];
    let l = 1.0 + rad_params[0] * rsq + rad_params[1] * rsq * rsq;
    [proj[0] * l, proj[1] * l]
}

/// ADBench's camera: rotation 0..3, centre 3..6, focal length 6, principal point 7..9, radial
/// distortion 9..11.
#[differentiate]
fn project(cam: &[f64; 11], x: &[f64; 3]) -> [f64; 2] {
    let rot = [cam[0], cam[1], cam[2]];
    let xc = [x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]];
    let xcam = rodrigues_rotate_point(&rot, &xc);
    let p = [xcam[0] / xcam[2], xcam[1] / xcam[2]];
    let rad = [cam[9], cam[10]];
    let d = radial_distort(&rad, p);
    [d[0] * cam[6] + cam[7], d[1] * cam[6] + cam[8]]
}

/// The weighted reprojection error and the weight error `1 − w²` of each observation, its
/// camera and point given by ids: `E = Σᵢ wᵢ²‖π(cᵢ, pᵢ) − oᵢ‖² + (1 − wᵢ²)²`, so
/// `∂E/∂wᵢ = 2wᵢ‖π − oᵢ‖² − 4wᵢ(1 − wᵢ²)`.
#[differentiate(wrt(cams, pts, w))]
fn ba_objective(
    cams: &[[f64; 11]],
    pts: &[[f64; 3]],
    w: &[f64],
    obs: &[[f64; 2]],
    cam_idx: &Vec<usize>,
    pt_idx: &Vec<usize>,
) -> f64 {
    let mut err = 0.0;
    for i in 0..obs.len() {
        let c = cam_idx[i];
        let p = pt_idx[i];
        let proj = project(&cams[c], &pts[p]);
        let r0 = w[i] * (proj[0] - obs[i][0]);
        let r1 = w[i] * (proj[1] - obs[i][1]);
        err += r0 * r0 + r1 * r1;
        let we = 1.0 - w[i] * w[i];
        err += we * we;
    }
    err
}

#[test]
fn bundle_adjustment_as_adbench_defines_it() {
    let cams: Vec<[f64; 11]> = (0..2)
        .map(|c| {
            let c = c as f64;
            [
                0.1 + 0.05 * c,
                -0.2,
                0.15 * c + 0.03,
                0.1,
                -0.1 * c,
                -5.0,
                1.2 + 0.1 * c,
                0.01,
                -0.02,
                0.05,
                -0.01,
            ]
        })
        .collect();
    let pts: Vec<[f64; 3]> = (0..3)
        .map(|p| {
            let p = p as f64;
            [0.3 * p - 0.2, 0.1 + 0.2 * p, 1.0 + 0.1 * p]
        })
        .collect();
    let w = vec![0.9, 1.1, 0.8, 1.05];
    let obs = vec![[0.01, 0.02], [0.05, -0.03], [-0.02, 0.04], [0.03, 0.0]];
    let ci = vec![0usize, 1, 0, 1];
    let pi = vec![0usize, 1, 2, 2];
    let (v, (gc, gp, gw)) = ba_objective_grad(&cams, &pts, &w, &obs, &ci, &pi);
    assert_eq!(v, ba_objective(&cams, &pts, &w, &obs, &ci, &pi));
    for i in 0..obs.len() {
        let q = project(&cams[ci[i]], &pts[pi[i]]);
        let d2 = (q[0] - obs[i][0]).powi(2) + (q[1] - obs[i][1]).powi(2);
        let expected = 2.0 * w[i] * d2 - 4.0 * w[i] * (1.0 - w[i] * w[i]);
        close(&format!("∂E/∂w{i}"), gw[i], expected, TOL);
    }
    let r = gradcheck(
        |c: &Vec<[f64; 11]>| ba_objective(c, &pts, &w, &obs, &ci, &pi),
        &cams,
        &gc,
    );
    assert!(r.passed(), "cameras: {r}");
    let r = gradcheck(
        |p: &Vec<[f64; 3]>| ba_objective(&cams, p, &w, &obs, &ci, &pi),
        &pts,
        &gp,
    );
    assert!(r.passed(), "points: {r}");
    let (_, t) = ba_objective_jvp(
        &cams,
        &pts,
        &w,
        &obs,
        &ci,
        &pi,
        &vec![[0.0; 11]; 2],
        &vec![[0.0; 3]; 3],
        &vec![1.0, 0.0, -1.0, 0.5],
    );
    close("jvp along w", t, gw[0] - gw[2] + 0.5 * gw[3], TOL);

    // At a zero rotation the first-order branch: the rotation's cotangent is `x × ȳ`.
    let x = [0.3, -0.2, 1.1];
    let yb = [1.0, 0.5, -0.25];
    let (_, pb) = rodrigues_rotate_point_vjp(&[0.0; 3], &x);
    let (gr, gx) = pb(yb);
    let cross = [
        x[1] * yb[2] - x[2] * yb[1],
        x[2] * yb[0] - x[0] * yb[2],
        x[0] * yb[1] - x[1] * yb[0],
    ];
    close_all("∂R/∂rot at 0", &gr, &cross);
    close_all("∂R/∂x at 0", &gx, &yb);
}

// ---------------------------------------------------------------------------------------------
// Rendering.
// ---------------------------------------------------------------------------------------------

/// Volume rendering along a ray: transmittance `Tᵢ = exp(−Σ_{k<i} σₖ dt)`, opacity
/// `αᵢ = 1 − exp(−σᵢ dt)`, `C = Σ Tᵢαᵢcᵢ + (1 − Σ Tᵢαᵢ)·½`; so `∂C/∂cᵢ = Tᵢαᵢ`.
#[differentiate(hessian)]
fn render_ray(sigma: &[f64], color: &[f64], dt: f64) -> f64 {
    let mut acc = 0.0;
    let mut cum = 0.0_f64;
    let mut out = 0.0;
    for i in 0..sigma.len() {
        let t = (-cum).exp();
        let alpha = 1.0 - (-sigma[i] * dt).exp();
        out += t * alpha * color[i];
        acc += t * alpha;
        cum += sigma[i] * dt;
    }
    out + (1.0 - acc) * 0.5
}

#[test]
fn volume_rendering_along_a_ray() {
    let sigma = vec![0.1, 0.5, 1.2, 0.3, 2.0];
    let color = vec![0.9, 0.2, 0.5, 0.7, 0.1];
    let dt = 0.3;
    let (v, (gs, gc, gdt)) = render_ray_grad(&sigma, &color, dt);
    assert_eq!(v, render_ray(&sigma, &color, dt));
    let mut cum = 0.0_f64;
    let mut expected = Vec::new();
    for &s in &sigma {
        expected.push((-cum).exp() * (1.0 - (-s * dt).exp()));
        cum += s * dt;
    }
    close_all("∂C/∂c", &gc, &expected);
    let r = gradcheck(|s: &Vec<f64>| render_ray(s, &color, dt), &sigma, &gs);
    assert!(r.passed(), "{r}");
    fd("∂C/∂dt", |d| render_ray(&sigma, &color, d), dt, gdt);
    let dir = (color.clone(), sigma.clone(), 0.1);
    let (_, _, hv) = render_ray_hvp(&sigma, &color, dt, &dir.0, &dir.1, dir.2);
    let r = hvpcheck(
        |(s, c, d): &(Vec<f64>, Vec<f64>, f64)| render_ray_grad(s, c, *d).1,
        &(sigma.clone(), color.clone(), dt),
        &dir,
        &hv,
    );
    assert!(r.passed(), "{r}");
}

/// ICP's point-to-plane residuals under a small-angle pose `[r; t]`:
/// `E = Σ (n·(p' − d))²` with `p' = p + r × p + t`, so `∂E/∂t = Σ 2(n·(p' − d))n` and
/// `∂E/∂r = Σ 2(n·(p' − d))(p × n)`.
#[differentiate(wrt(pose))]
fn icp_point_to_plane(
    pose: &[f64; 6],
    src: &Vec<[f64; 3]>,
    dst: &Vec<[f64; 3]>,
    normals: &Vec<[f64; 3]>,
) -> f64 {
    let [rx, ry, rz, tx, ty, tz] = *pose;
    src.iter()
        .zip(dst.iter().zip(normals.iter()))
        .map(|(s, (d, n))| {
            let p = [
                s[0] - rz * s[1] + ry * s[2] + tx,
                rz * s[0] + s[1] - rx * s[2] + ty,
                -ry * s[0] + rx * s[1] + s[2] + tz,
            ];
            let r = (p[0] - d[0]) * n[0] + (p[1] - d[1]) * n[1] + (p[2] - d[2]) * n[2];
            r * r
        })
        .sum()
}

#[test]
fn icp_point_to_plane_residuals() {
    let src: Vec<[f64; 3]> = (0..5)
        .map(|i| [(i as f64).sin(), (i as f64 * 0.7).cos(), 0.1 * i as f64])
        .collect();
    let dst: Vec<[f64; 3]> = src
        .iter()
        .map(|p| [p[0] + 0.1, p[1] - 0.05, p[2] + 0.02])
        .collect();
    let normals: Vec<[f64; 3]> = (0..5)
        .map(|i| {
            let a = i as f64;
            let v = [a.cos(), a.sin(), 0.5];
            let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            [v[0] / n, v[1] / n, v[2] / n]
        })
        .collect();
    let pose = [0.01, -0.02, 0.03, 0.1, 0.0, -0.1];
    let mut expected = [0.0; 6];
    for ((s, d), n) in src.iter().zip(&dst).zip(&normals) {
        let [rx, ry, rz, tx, ty, tz] = pose;
        let p = [
            s[0] - rz * s[1] + ry * s[2] + tx,
            rz * s[0] + s[1] - rx * s[2] + ty,
            -ry * s[0] + rx * s[1] + s[2] + tz,
        ];
        let r: f64 = (0..3).map(|k| (p[k] - d[k]) * n[k]).sum();
        let pxn = [
            s[1] * n[2] - s[2] * n[1],
            s[2] * n[0] - s[0] * n[2],
            s[0] * n[1] - s[1] * n[0],
        ];
        for k in 0..3 {
            expected[k] += 2.0 * r * pxn[k];
            expected[3 + k] += 2.0 * r * n[k];
        }
    }
    let (v, g) = icp_point_to_plane_grad(&pose, &src, &dst, &normals);
    assert_eq!(v, icp_point_to_plane(&pose, &src, &dst, &normals));
    close_all("∂E/∂pose", &g, &expected);
    let r = gradcheck(
        |p: &[f64; 6]| icp_point_to_plane(p, &src, &dst, &normals),
        &pose,
        &g,
    );
    assert!(r.passed(), "{r}");
    let dir = [0.1, 0.2, 0.3, -0.1, 0.2, 0.5];
    let (_, t) = icp_point_to_plane_jvp(&pose, &src, &dst, &normals, &dir);
    let r = jvpcheck(
        |p: &[f64; 6]| icp_point_to_plane(p, &src, &dst, &normals),
        &pose,
        &dir,
        &t,
    );
    assert!(r.passed(), "{r}");
    close("jvp", t, (0..6).map(|k| expected[k] * dir[k]).sum(), TOL);
}

/// Horn–Schunck's energy written with slices of the flow field: `E = Σ (Ix u + It)² +
/// α Σ (Δₓu)² + α Σ (Δ_y u)²`, so `∂E/∂u = 2Ix(Ix u + It) + 2α(Dₓᵀ Dₓ u + D_yᵀ D_y u)`.
#[differentiate(wrt(u))]
fn horn_schunck(u: &Array2<f64>, ix: &Array2<f64>, it: &Array2<f64>, alpha: f64) -> f64 {
    let data = (ix * u + it).mapv(|r| r * r).sum();
    let dx = &u.slice(s![.., 1..]) - &u.slice(s![.., ..-1]);
    let dy = &u.slice(s![1.., ..]) - &u.slice(s![..-1, ..]);
    data + alpha * (dx.mapv(|d| d * d).sum() + dy.mapv(|d| d * d).sum())
}

#[test]
fn horn_schunck_energy_over_a_grid() {
    let sh = (4, 5);
    let u = Array2::from_shape_fn(sh, |(i, j)| 0.1 * (i as f64 - j as f64).sin());
    let ix = Array2::from_shape_fn(sh, |(i, j)| (i as f64 + 0.3 * j as f64).cos());
    let it = Array2::from_shape_fn(sh, |(i, j)| 0.1 * (i + j) as f64 - 0.3);
    let alpha = 0.5;
    let mut expected = Array2::<f64>::zeros(sh);
    for i in 0..sh.0 {
        for j in 0..sh.1 {
            let mut g = 2.0 * ix[[i, j]] * (ix[[i, j]] * u[[i, j]] + it[[i, j]]);
            if j + 1 < sh.1 {
                g -= 2.0 * alpha * (u[[i, j + 1]] - u[[i, j]]);
            }
            if j > 0 {
                g += 2.0 * alpha * (u[[i, j]] - u[[i, j - 1]]);
            }
            if i + 1 < sh.0 {
                g -= 2.0 * alpha * (u[[i + 1, j]] - u[[i, j]]);
            }
            if i > 0 {
                g += 2.0 * alpha * (u[[i, j]] - u[[i - 1, j]]);
            }
            expected[[i, j]] = g;
        }
    }
    let (v, g) = horn_schunck_grad(&u, &ix, &it, alpha);
    assert_eq!(v, horn_schunck(&u, &ix, &it, alpha));
    close_all("∂E/∂u", g.as_slice().unwrap(), expected.as_slice().unwrap());
    let r = gradcheck(|u: &Array2<f64>| horn_schunck(u, &ix, &it, alpha), &u, &g);
    assert!(r.passed(), "{r}");
    let (_, t) = horn_schunck_jvp(&u, &ix, &it, alpha, &ix);
    close("jvp", t, (&expected * &ix).sum(), TOL);
}

/// A photometric loss in `f32`, brightness gain and bias under a Huber kernel of width 0.1:
/// `∂L/∂g = Σ ψ(r)·a`, `∂L/∂b = Σ ψ(r)` with `ψ(r) = r` for `|r| < 0.1`, else `0.1·sign r`.
#[differentiate(wrt(gain, bias))]
fn photometric(gain: f32, bias: f32, a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let r = gain * x + bias - y;
            if r.abs() < 0.1 {
                0.5 * r * r
            } else {
                0.1 * (r.abs() - 0.05)
            }
        })
        .sum::<f32>()
}

#[test]
fn photometric_loss_in_f32() {
    let a: Vec<f32> = (0..8).map(|i| (i as f32 * 0.3).sin()).collect();
    let b: Vec<f32> = (0..8)
        .map(|i| (i as f32 * 0.3).sin() * 1.1 + 0.05 + if i == 3 { 0.5 } else { 0.0 })
        .collect();
    let (g0, b0) = (1.05f32, 0.02f32);
    let (v, (gg, gb)) = photometric_grad(g0, b0, &a, &b);
    assert_eq!(v, photometric(g0, b0, &a, &b));
    let psi = |r: f32| if r.abs() < 0.1 { r } else { 0.1 * r.signum() };
    let eg: f32 = a
        .iter()
        .zip(&b)
        .map(|(&x, &y)| psi(g0 * x + b0 - y) * x)
        .sum();
    let eb: f32 = a.iter().zip(&b).map(|(&x, &y)| psi(g0 * x + b0 - y)).sum();
    assert!((gg - eg).abs() <= 1e-5 * eg.abs().max(1.0), "{gg} vs {eg}");
    assert!((gb - eb).abs() <= 1e-5 * eb.abs().max(1.0), "{gb} vs {eb}");
    let r = gradcheck(
        |p: &(f32, f32)| photometric(p.0, p.1, &a, &b),
        &(g0, b0),
        &(gg, gb),
    );
    assert!(r.passed(), "{r}");
}
