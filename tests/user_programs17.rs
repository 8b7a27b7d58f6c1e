//! Geometry, robotics and graphics objectives: rotations as quaternion structs with their own
//! operators and associated constants, composed over a chain of joints.
//!
//! A local started from a struct's associated constant (`let mut acc = Quat::IDENTITY;`, the
//! form glam's `Quat::IDENTITY` and `Vec3::ZERO` teach) was not known to hold the struct: its
//! methods were taken for changes of a container (the error "`acc.rotate(..)` may change
//! `acc`"), an operator with it on the left was the error "`*` with a `Quat` of yours on the
//! right only", and a loop carrying it was rustc's "`{float}` is a primitive type" inside the
//! generated code. Such a constant is now a value of its struct, in a `let`, as an operand, as
//! a `fold`'s start and under its type's `Self`.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's, and each `_jvp` against the gradient.

#![allow(clippy::needless_range_loop)] // written as users write them

use std::ops::Mul;

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. A chain of joint rotations composed from `Quat::IDENTITY`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
struct Quat {
    w: f64,
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl Mul for Quat {
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

#[differentiate]
impl Quat {
    const IDENTITY: Quat = Quat {
        w: 1.0,
        x: 0.0,
        y: 0.0,
        z: 0.0,
    };

    fn conj(self) -> Quat {
        Quat {
            w: self.w,
            x: -self.x,
            y: -self.y,
            z: -self.z,
        }
    }

    /// `v` rotated by `self` (a unit quaternion): the vector part of `q·(0, v)·q*`.
    fn rotate(self, v: [f64; 3]) -> [f64; 3] {
        let p = Quat {
            w: 0.0,
            x: v[0],
            y: v[1],
            z: v[2],
        };
        let r = self * p * self.conj();
        [r.x, r.y, r.z]
    }

    /// The product of `qs` in order, started from `Self::IDENTITY`.
    fn product(qs: &[Quat]) -> Quat {
        let mut acc = Self::IDENTITY;
        for &q in qs {
            acc = acc * q;
        }
        acc
    }
}

/// A rotation about z by `a`: `(cos a/2, 0, 0, sin a/2)`.
fn about_z(a: f64) -> Quat {
    Quat {
        w: (a / 2.0).cos(),
        x: 0.0,
        y: 0.0,
        z: (a / 2.0).sin(),
    }
}

/// The x coordinate of `(1, 0, 0)` rotated by the joints' product, built in a loop from the
/// constant.
#[differentiate]
fn chain_x(joints: &[Quat]) -> f64 {
    let mut acc = Quat::IDENTITY;
    for &j in joints {
        acc = acc * j;
    }
    acc.rotate([1.0, 0.0, 0.0])[0]
}

/// The same product, multiplied on the left each step (`j * acc`) and read by `w`.
#[differentiate]
fn chain_w_left(joints: &[Quat]) -> f64 {
    let mut acc = Quat::IDENTITY;
    for j in joints {
        acc = *j * acc;
    }
    acc.w
}

/// The product as a `fold` started from the constant, and an operand with it on the left.
#[differentiate]
fn fold_y(joints: &[Quat]) -> f64 {
    let acc = joints.iter().fold(Quat::IDENTITY, |a, &q| a * q);
    let r = Quat::IDENTITY * acc;
    r.rotate([1.0, 0.0, 0.0])[1]
}

/// Through `Self::IDENTITY` inside the struct's own method.
#[differentiate]
fn product_z(joints: &[Quat]) -> f64 {
    Quat::product(joints).z
}

fn flat(q: &[Quat]) -> Vec<f64> {
    q.iter().flat_map(|q| [q.w, q.x, q.y, q.z]).collect()
}

fn unflat(x: &[f64]) -> Vec<Quat> {
    x.chunks(4)
        .map(|c| Quat {
            w: c[0],
            x: c[1],
            y: c[2],
            z: c[3],
        })
        .collect()
}

#[track_caller]
fn fd_quats(what: &str, f: impl Fn(&[Quat]) -> f64, q: &[Quat], g: &[Quat]) {
    let r = gradcheck(|x: &Vec<f64>| f(&unflat(x)), &flat(q), &flat(g));
    assert!(r.passed(), "{what}: {r}");
}

#[test]
fn a_local_started_from_a_struct_constant_is_the_struct() {
    // Unit rotations about z by a and b compose to one about z by a + b: at unit joints,
    // chain_x = cos(a + b), so ∂/∂(joint k) along the unit joint's own tangent
    // (−sin(a_k/2)/2, 0, 0, cos(a_k/2)/2) is −sin(a + b).
    let (a, b) = (0.4, 0.7);
    let joints = vec![about_z(a), about_z(b)];
    let (v, g) = chain_x_grad(&joints);
    close("chain_x", v, chain_x(&joints), TOL);
    close("chain_x = cos(a + b)", v, (a + b).cos(), TOL);
    for (k, &ak) in [a, b].iter().enumerate() {
        let along = -(ak / 2.0).sin() / 2.0 * g[k].w + (ak / 2.0).cos() / 2.0 * g[k].z;
        close("∂chain_x/∂a_k", along, -(a + b).sin(), TOL);
    }
    // Off the unit sphere and off the z axis, against differences.
    let joints = unflat(&[
        0.9, 0.1, 0.2, 0.0, 0.95, 0.0, -0.1, 0.2, 1.0, 0.3, 0.0, -0.1,
    ]);
    let (v, g) = chain_x_grad(&joints);
    close("chain_x", v, chain_x(&joints), TOL);
    fd_quats("chain_x", chain_x, &joints, &g);
    let dir = unflat(&data(12, 0.4));
    let (vj, dv) = chain_x_jvp(&joints, &dir);
    close("chain_x jvp value", vj, v, TOL);
    let want: f64 = flat(&g).iter().zip(flat(&dir)).map(|(a, b)| a * b).sum();
    close("chain_x jvp", dv, want, TOL);

    // w of a product of two: w = w₀w₁ − x₀x₁ − y₀y₁ − z₀z₁ (either order), so ∂w/∂q₀ =
    // (w₁, −x₁, −y₁, −z₁) and ∂w/∂q₁ = (w₀, −x₀, −y₀, −z₀).
    let two = &joints[..2];
    let (v, g) = chain_w_left_grad(two);
    close("chain_w_left", v, chain_w_left(two), TOL);
    let (q0, q1) = (two[0], two[1]);
    close_all(
        "∂w/∂q",
        &flat(&g),
        &[q1.w, -q1.x, -q1.y, -q1.z, q0.w, -q0.x, -q0.y, -q0.z],
    );
    let (_, g) = chain_w_left_grad(&joints);
    fd_quats("chain_w_left", chain_w_left, &joints, &g);

    let (v, g) = fold_y_grad(&joints);
    close("fold_y", v, fold_y(&joints), TOL);
    fd_quats("fold_y", fold_y, &joints, &g);

    // z of the product of one joint is its z: ∂/∂q = (0, 0, 0, 1).
    let (v, g) = product_z_grad(&joints[..1]);
    close("product_z", v, joints[0].z, TOL);
    close_all("∂z/∂q", &flat(&g), &[0.0, 0.0, 0.0, 1.0]);
    let (v, g) = product_z_grad(&joints);
    close("product_z", v, product_z(&joints), TOL);
    fd_quats("product_z", product_z, &joints, &g);
}

/// A lens's constants of other names stay constants of their own types: a float and a count.
struct Lens;

impl Lens {
    const FOCAL: f64 = 2.0;
    const N_SAMPLES: usize = 3;
}

/// `Σ_{k<3} FOCAL·x/(k + 1)`, so `∂/∂x = FOCAL·(1 + 1/2 + 1/3) = 11/3`.
#[differentiate]
fn lens_sum(x: f64) -> f64 {
    let mut s = 0.0;
    for k in 0..Lens::N_SAMPLES {
        s += Lens::FOCAL * x / (k + 1) as f64;
    }
    s
}

#[test]
fn other_associated_constants_stay_constants() {
    let (v, d) = lens_sum_grad(0.6);
    close("lens_sum", v, lens_sum(0.6), TOL);
    close("∂lens_sum/∂x", d, 11.0 / 3.0, TOL);
    fd("lens_sum", lens_sum, 0.6, d);
}

// ---------------------------------------------------------------------------------------------
// 2. A triangle's corners gathered by `std::array::from_fn` and taken apart in the same `let`.
// ---------------------------------------------------------------------------------------------

/// The signed area of a triangle mesh: `Σ ½·((b − a) × (c − a))`, the corners gathered from the
/// index triple by `from_fn` and bound by an array pattern (`let [a, b, c]: [[f64; 2]; 3]`,
/// which was the error "`std::array::from_fn(|i| ..)` is followed where it is a variable's
/// value declared with its type" though the type was declared).
#[differentiate(wrt(pts))]
fn mesh_area(pts: &[[f64; 2]], tris: &[[usize; 3]]) -> f64 {
    let mut s = 0.0;
    for t in tris {
        let [a, b, c]: [[f64; 2]; 3] = std::array::from_fn(|k| pts[t[k]]);
        s += 0.5 * ((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]));
    }
    s
}

#[test]
fn corners_from_fn_taken_apart_in_the_let() {
    // A fan of counter-clockwise triangles around the centre covers the quadrilateral: the
    // area is the shoelace sum over the boundary, ½·Σ (x_i·y_{i+1} − x_{i+1}·y_i), so
    // ∂/∂x_i = ½·(y_{i+1} − y_{i−1}), ∂/∂y_i = ½·(x_{i−1} − x_{i+1}) on the boundary and 0 at
    // the centre (which every triangle shares and whose terms cancel).
    let pts = vec![[0.0, 0.0], [1.0, 0.1], [1.1, 1.0], [0.1, 0.9], [0.5, 0.5]];
    let tris = vec![[0, 1, 4], [1, 2, 4], [2, 3, 4], [3, 0, 4]];
    let (v, g) = mesh_area_grad(&pts, &tris);
    close("mesh_area", v, mesh_area(&pts, &tris), TOL);
    let mut want = vec![[0.0; 2]; 5];
    let mut shoelace = 0.0;
    for i in 0..4 {
        let (p, n) = ((i + 3) % 4, (i + 1) % 4);
        shoelace += 0.5 * (pts[i][0] * pts[n][1] - pts[n][0] * pts[i][1]);
        want[i] = [0.5 * (pts[n][1] - pts[p][1]), 0.5 * (pts[p][0] - pts[n][0])];
    }
    close("mesh_area = shoelace", v, shoelace, TOL);
    let flat = |v: &[[f64; 2]]| v.iter().flatten().copied().collect::<Vec<f64>>();
    close_all("∂area/∂pts", &flat(&g), &flat(&want));
    let unflat = |x: &[f64]| x.chunks(2).map(|c| [c[0], c[1]]).collect::<Vec<_>>();
    fd_vec(
        "mesh_area",
        |x| mesh_area(&unflat(x), &tris),
        &flat(&pts),
        &flat(&g),
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Fixed-size arrays of a vector struct: `[V3::default(); 2]`, `[V3::ZERO; 2]`, `[a, b, c]`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Default, Differentiable)]
struct V3 {
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl std::ops::Add for V3 {
    type Output = V3;
    fn add(self, o: V3) -> V3 {
        V3 {
            x: self.x + o.x,
            y: self.y + o.y,
            z: self.z + o.z,
        }
    }
}

#[differentiate]
impl V3 {
    const ZERO: V3 = V3 {
        x: 0.0,
        y: 0.0,
        z: 0.0,
    };

    fn dot(self, o: V3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }

    fn scale(self, k: f64) -> V3 {
        V3 {
            x: self.x * k,
            y: self.y * k,
            z: self.z * k,
        }
    }

    fn length2(self) -> f64 {
        self.dot(self)
    }

    /// `(|p|², p/2)`: two results, the second the struct.
    fn halves(self) -> (f64, V3) {
        (self.length2(), self.scale(0.5))
    }

    /// `self + (o − self)·t`.
    fn lerp(self, o: V3, t: f64) -> V3 {
        self + (o + self.scale(-1.0)).scale(t)
    }
}

/// The points summed into two bins by parity, `s₀ = p₀ + p₂`, `s₁ = p₁`; `f = s₀·s₁`, so
/// `∂f/∂p₀ = ∂f/∂p₂ = s₁` and `∂f/∂p₁ = s₀`. The bins' element method `dot` was taken for
/// ndarray's (rustc's "`dot` of `V3` and `_` cannot be differentiated" in the generated code).
#[differentiate]
fn bins_default(ps: &[V3]) -> f64 {
    let mut acc = [V3::default(); 2];
    for (i, p) in ps.iter().enumerate() {
        acc[i % 2] = acc[i % 2] + *p;
    }
    acc[0].dot(acc[1])
}

/// As [`bins_default`], the bins started from the struct's constant.
#[differentiate]
fn bins_const(ps: &[V3]) -> f64 {
    let mut acc = [V3::ZERO; 2];
    for (i, p) in ps.iter().enumerate() {
        acc[i % 2] = acc[i % 2] + *p;
    }
    acc[0].dot(acc[1])
}

/// `Σ_k c_k·c_k` over an array literal of parameters, read by index and by iteration:
/// `2·(a·a) + b·b + c·c`, so `∂/∂a = 4a`, `∂/∂b = 2b`, `∂/∂c = 2c`.
#[differentiate]
fn corners(a: V3, b: V3, c: V3) -> f64 {
    let cs = [a, b, c];
    let mut s = cs[0].dot(cs[0]);
    for q in &cs {
        s += q.dot(*q);
    }
    s
}

fn v3s(x: &[f64]) -> Vec<V3> {
    x.chunks(3)
        .map(|c| V3 {
            x: c[0],
            y: c[1],
            z: c[2],
        })
        .collect()
}

fn flat3(v: &[V3]) -> Vec<f64> {
    v.iter().flat_map(|p| [p.x, p.y, p.z]).collect()
}

#[test]
fn fixed_size_arrays_of_a_struct_call_its_methods() {
    let ps = v3s(&data(9, 0.2));
    let s0 = ps[0] + ps[2];
    let s1 = ps[1];
    let want = flat3(&[s1, s0, s1]);
    for (name, f, grad) in [
        (
            "bins_default",
            bins_default as fn(&[V3]) -> f64,
            bins_default_grad as fn(&[V3]) -> (f64, Vec<V3>),
        ),
        ("bins_const", bins_const, bins_const_grad),
    ] {
        let (v, g) = grad(&ps);
        close(name, v, f(&ps), TOL);
        close(name, v, s0.dot(s1), TOL);
        close_all(name, &flat3(&g), &want);
        fd_vec(name, |x| f(&v3s(x)), &flat3(&ps), &flat3(&g));
    }
    let (v, (ga, gb, gc)) = corners_grad(ps[0], ps[1], ps[2]);
    close("corners", v, corners(ps[0], ps[1], ps[2]), TOL);
    let scaled = |p: V3, k: f64| [p.x * k, p.y * k, p.z * k];
    close_all("∂/∂a", &flat3(&[ga]), &scaled(ps[0], 4.0));
    close_all("∂/∂b", &flat3(&[gb]), &scaled(ps[1], 2.0));
    close_all("∂/∂c", &flat3(&[gc]), &scaled(ps[2], 2.0));
}

// ---------------------------------------------------------------------------------------------
// 4. The elements of a window of a container of the struct call its methods.
// ---------------------------------------------------------------------------------------------

/// de Casteljau's point of a Bézier curve at `t` over a `Vec` of the struct, each level the
/// windows' `lerp`: `w[0].lerp(w[1], t)` was "no derivative rule for method `lerp`". The
/// point is `Σ_k B_k(t)·p_k` with the Bernstein weights `B_k(t) = C(n, k)·tᵏ·(1 − t)ⁿ⁻ᵏ`,
/// so `∂x/∂p_k = (B_k(t), 0, 0)`.
#[differentiate]
fn bezier_x(ctrl: &[V3], t: f64) -> f64 {
    let mut pts: Vec<V3> = ctrl.to_vec();
    while pts.len() > 1 {
        pts = pts.windows(2).map(|w| w[0].lerp(w[1], t)).collect();
    }
    pts[0].x
}

/// The turning of a polyline, `Σ (p₁ − p₀)·(p₂ − p₁)` over windows of three of a parameter, read
/// through the window's elements' `dot` (named like ndarray's) in a `for` loop:
/// `∂/∂p_k` collects `(p_{k+1} − p_k)`'s and `(p_k − p_{k−1})`'s terms, checked by differences.
#[differentiate]
fn turning(ps: &[V3]) -> f64 {
    let mut s = 0.0;
    for w in ps.windows(3) {
        let a: V3 = w[1].lerp(w[0], 1.0);
        s += w[1].dot(w[2]) - w[1].dot(w[1]) - a.dot(w[2]) + a.dot(w[1]);
    }
    s
}

#[test]
fn window_elements_call_the_structs_methods() {
    let ctrl = v3s(&data(12, 0.7));
    let t = 0.3;
    let (v, (g, gt)) = bezier_x_grad(&ctrl, t);
    close("bezier_x", v, bezier_x(&ctrl, t), TOL);
    let binom = [1.0, 3.0, 3.0, 1.0];
    let mut want = Vec::new();
    let mut x = 0.0;
    for k in 0..4 {
        let b = binom[k] * t.powi(k as i32) * (1.0 - t).powi(3 - k as i32);
        x += b * ctrl[k].x;
        want.extend([b, 0.0, 0.0]);
    }
    close("bezier_x = Σ B_k x_k", v, x, TOL);
    close_all("∂x/∂p", &flat3(&g), &want);
    fd_vec(
        "bezier_x",
        |p| bezier_x(&v3s(p), t),
        &flat3(&ctrl),
        &flat3(&g),
    );
    fd("∂x/∂t", |s| bezier_x(&ctrl, s), t, gt);

    let ps = v3s(&data(12, 1.9));
    let (v, g) = turning_grad(&ps);
    close("turning", v, turning(&ps), TOL);
    let direct: f64 = ps
        .windows(3)
        .map(|w| {
            let (d0, d1) = (w[1].scale(1.0) + w[0].scale(-1.0), w[2] + w[1].scale(-1.0));
            d0.dot(d1)
        })
        .sum();
    close("turning = Σ d₀·d₁", v, direct, TOL);
    fd_vec("turning", |p| turning(&v3s(p)), &flat3(&ps), &flat3(&g));
}

// ---------------------------------------------------------------------------------------------
// 5. A `match` or an `if` whose branches yield the struct, one of them by a call the macro
//    does not type (`V3::default()`).
// ---------------------------------------------------------------------------------------------

/// `s = Σ_{k<3} m_k·p₀ + |m_k|²` with `m₀ = 0` and `m_k = p_k` otherwise, plus `|n|²` with
/// `n = p₀` (`s` is small): `∂/∂p₀ = p₁ + p₂ + 2p₀`, `∂/∂p_k = p₀ + 2p_k` for `k = 1, 2`.
/// The arm `V3::default()` made the match's type unknown, and `m.length2()` was "no derivative
/// rule for method `length2`".
#[differentiate]
fn arms(ps: &[V3]) -> f64 {
    let mut s = 0.0;
    for k in 0..3 {
        let m = match k {
            0 => V3::default(),
            _ => ps[k],
        };
        s += m.dot(ps[0]) + m.length2();
    }
    let n = if s > 100.0 { V3::default() } else { ps[0] };
    s + n.length2()
}

#[test]
fn branches_yielding_the_struct_call_its_methods() {
    let ps = v3s(&data(9, 2.3));
    let (v, g) = arms_grad(&ps);
    close("arms", v, arms(&ps), TOL);
    let [p0, p1, p2] = [ps[0], ps[1], ps[2]];
    let want = [
        p1 + p2 + p0.scale(2.0),
        p0 + p1.scale(2.0),
        p0 + p2.scale(2.0),
    ];
    close_all("∂arms/∂p", &flat3(&g), &flat3(&want));
    fd_vec("arms", |x| arms(&v3s(x)), &flat3(&ps), &flat3(&g));
}

// ---------------------------------------------------------------------------------------------
// 6. The best item of a chain over a slice of the struct calls its methods.
// ---------------------------------------------------------------------------------------------

/// `|p_far|² + p_far·p_near`, `p_far` the point of largest x and `p_near` that of smallest
/// `|p|²` among those with `y < 1`: `∂/∂p_far = 2p_far + p_near`, `∂/∂p_near = p_far` (the
/// choices fixed near the point). `far.length2()` was "no derivative rule for method
/// `length2`".
#[differentiate]
fn extremes(ps: &[V3]) -> f64 {
    let far = ps
        .iter()
        .max_by(|a, b| a.x.partial_cmp(&b.x).unwrap())
        .unwrap();
    let near = ps
        .iter()
        .filter(|p| p.y < 1.0)
        .min_by(|a, b| a.length2().partial_cmp(&b.length2()).unwrap())
        .unwrap();
    far.length2() + far.dot(*near)
}

#[test]
fn the_best_item_of_a_slice_of_the_struct_calls_its_methods() {
    let ps = v3s(&[0.9, 0.1, 0.2, 0.3, -0.3, 0.1, 0.1, 0.5, -0.7, 1.2, 2.0, 0.0]);
    let (v, g) = extremes_grad(&ps);
    close("extremes", v, extremes(&ps), TOL);
    // far = p₃ (x = 1.2), near = p₁ (|p₁|² = 0.19, among p₀..p₂; p₃ has y ≥ 1).
    let (far, near) = (ps[3], ps[1]);
    close("extremes", v, far.length2() + far.dot(near), TOL);
    let zero = V3::default();
    let want = [zero, far, zero, far.scale(2.0) + near];
    close_all("∂extremes/∂p", &flat3(&g), &flat3(&want));
    fd_vec("extremes", |x| extremes(&v3s(x)), &flat3(&ps), &flat3(&g));
}

// ---------------------------------------------------------------------------------------------
// 7. A `Vec` of the struct collected from a chain over a slice of it, its type left to `_`.
// ---------------------------------------------------------------------------------------------

/// The points relative to the first, `r_k = p_k − p₀`, collected by `collect::<Vec<_>>()`;
/// the doubles `d_k = p_k + p_k` collected into a `let d: Vec<_>`; the points with `x > 0`
/// kept by a filter. `f = r₁·r₂ + Σ_k d_k·p₀ + |k₀|²` with `k₀` the first kept point:
/// `r₁.dot(r₂)` was rustc's error for ndarray's `dot` in the generated code, and `length2` on
/// an element "no derivative rule", the element type being unseen.
#[differentiate]
fn collected(ps: &[V3]) -> f64 {
    let c = ps[0];
    let rel = ps.iter().map(|&p| p + c.scale(-1.0)).collect::<Vec<_>>();
    let doubles: Vec<_> = ps.iter().map(|&p| p + p).collect();
    let kept: Vec<_> = ps.iter().copied().filter(|p| p.x > 0.0).collect();
    let mut s = rel[1].dot(rel[2]);
    for d in &doubles {
        s += d.dot(c);
    }
    s + kept[0].length2()
}

#[test]
fn a_collected_vec_of_the_struct_calls_its_methods() {
    // p₀ has x < 0, so k₀ = p₁. With S = Σ_k p_k: f = (p₁ − p₀)·(p₂ − p₀) + 2·S·p₀ + |p₁|², so
    // ∂/∂p₀ = −(p₂ − p₀) − (p₁ − p₀) + 2·(S + p₀), ∂/∂p₁ = (p₂ − p₀) + 2·p₀ + 2p₁,
    // ∂/∂p₂ = (p₁ − p₀) + 2·p₀.
    let mut ps = v3s(&data(9, 0.9));
    ps[0].x = -0.4;
    ps[1].x = 0.6;
    let (v, g) = collected_grad(&ps);
    close("collected", v, collected(&ps), TOL);
    let [p0, p1, p2] = [ps[0], ps[1], ps[2]];
    let neg = |p: V3| p.scale(-1.0);
    let (r1, r2) = (p1 + neg(p0), p2 + neg(p0));
    let sum = p0 + p1 + p2;
    close(
        "collected",
        v,
        r1.dot(r2) + 2.0 * sum.dot(p0) + p1.length2(),
        TOL,
    );
    let want = [
        neg(r2) + neg(r1) + (sum + p0).scale(2.0),
        r2 + p0.scale(2.0) + p1.scale(2.0),
        r1 + p0.scale(2.0),
    ];
    close_all("∂collected/∂p", &flat3(&g), &flat3(&want));
    fd_vec("collected", |x| collected(&v3s(x)), &flat3(&ps), &flat3(&g));
}

// ---------------------------------------------------------------------------------------------
// 8. The struct part of a tuple a method returns, taken apart in a `let`, calls its methods.
// ---------------------------------------------------------------------------------------------

/// `f = Σ_k |p_k|²·((p_k/2)·w)·p₀ + |p₁|²·(p₁/2)·p₂`. `half.scale(w)` of `let (len2, half) =
/// p.halves();` was "no derivative rule for method `scale`", the part's type being unseen.
#[differentiate]
fn split_parts(ps: &[V3], w: f64) -> f64 {
    let mut s = 0.0;
    for p in ps {
        let (len2, half) = p.halves();
        s += len2 * half.scale(w).dot(ps[0]);
    }
    let (l1, h1) = ps[1].halves();
    s + l1 * h1.dot(ps[2])
}

#[test]
fn the_struct_part_of_a_returned_tuple_calls_its_methods() {
    // ∂f/∂w = Σ_k |p_k|²·(p_k·p₀)/2.
    let ps = v3s(&data(9, 0.4));
    let w = 0.7;
    let (v, (g, gw)) = split_parts_grad(&ps, w);
    close("split_parts", v, split_parts(&ps, w), TOL);
    let dw: f64 = ps.iter().map(|p| p.length2() * p.dot(ps[0]) / 2.0).sum();
    close("∂split_parts/∂w", gw, dw, TOL);
    fd_vec(
        "split_parts",
        |x| split_parts(&v3s(x), w),
        &flat3(&ps),
        &flat3(&g),
    );
}
