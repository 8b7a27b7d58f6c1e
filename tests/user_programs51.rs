//! Physics and geometry code written inside a module marked `#[differentiate]`, where the macro
//! sees the declared types of the module's structs, functions and methods: particles kept in a
//! field and copied into a local (`let ps = s.ps.clone();` then `ps[i].pos - ps[i - 1].pos`),
//! a method's result taken apart (`let q = p.moved(dt); let Particle { pos, vel, .. } = q;`),
//! the windows of a row of a grid field (`g.rows.iter().map(|row| row.windows(2).map(|w| w[1]
//! - w[0]))`), and a module nested in the marked one (`mod inner { use super::*; .. }`).
//!
//! Each was a failure before: rustc's errors inside the generated code (`V2` and an ndarray
//! array "cannot be combined by an arithmetic operator", the struct's `dot` taken for
//! ndarray's), or the macro's "no derivative rule for method `norm`" on a value whose type the
//! module declares.
//!
//! Each gradient is checked against its closed form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![allow(clippy::needless_range_loop)] // written as users write them

mod common;
use autodiff::check::gradcheck;
use common::*;

#[autodiff::differentiate]
mod sim {
    use autodiff::{Differentiable, differentiate};
    use std::ops::{Add, Mul, Sub};

    #[derive(Clone, Copy, Debug, Default, PartialEq, Differentiable)]
    pub struct V2 {
        pub x: f64,
        pub y: f64,
    }

    #[differentiate]
    impl Add for V2 {
        type Output = V2;
        fn add(self, o: V2) -> V2 {
            V2 {
                x: self.x + o.x,
                y: self.y + o.y,
            }
        }
    }

    #[differentiate]
    impl Sub for V2 {
        type Output = V2;
        fn sub(self, o: V2) -> V2 {
            V2 {
                x: self.x - o.x,
                y: self.y - o.y,
            }
        }
    }

    #[differentiate]
    impl Mul<f64> for V2 {
        type Output = V2;
        fn mul(self, s: f64) -> V2 {
            V2 {
                x: self.x * s,
                y: self.y * s,
            }
        }
    }

    #[differentiate]
    impl V2 {
        pub fn dot(self, o: V2) -> f64 {
            self.x * o.x + self.y * o.y
        }
        pub fn norm(self) -> f64 {
            self.dot(self).sqrt()
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
    pub struct Particle {
        pub pos: V2,
        pub vel: V2,
        pub m: f64,
    }

    #[derive(Clone, Debug, PartialEq, Differentiable)]
    pub struct Springs {
        pub ps: Vec<Particle>,
        pub k: f64,
        pub rest: f64,
    }

    /// A chain of springs read through a local copy of the field holding the particles:
    /// `E = Σᵢ ½k·(|pᵢ − pᵢ₋₁| − L)²`.
    #[differentiate]
    pub fn chain_energy(s: &Springs) -> f64 {
        let ps = s.ps.clone();
        let mut e = 0.0;
        for i in 1..ps.len() {
            let d = ps[i].pos - ps[i - 1].pos;
            let stretch = d.norm() - s.rest;
            e += 0.5 * s.k * stretch * stretch;
        }
        e
    }

    #[differentiate]
    impl Particle {
        /// The particle after a drift of `dt`, the other fields kept.
        pub fn moved(self, dt: f64) -> Particle {
            Particle {
                pos: self.pos + self.vel * dt,
                ..self
            }
        }
    }

    /// A method's result taken apart by a pattern: with `q = pos + vel·dt`,
    /// `f = q·vel + m·|q|`.
    #[differentiate(wrt(p))]
    pub fn moved_energy(p: &Particle, dt: f64) -> f64 {
        let q = p.moved(dt);
        let Particle { pos, vel, .. } = q;
        pos.dot(vel) + q.m * pos.norm()
    }

    #[derive(Clone, Debug, PartialEq, Differentiable)]
    pub struct Grid {
        pub rows: Vec<Vec<V2>>,
        pub k: f64,
    }

    /// Springs along each row of a grid, through the windows of each row of the field:
    /// `E = k·Σ_rows Σ_c |p_c − p_{c−1}|²`.
    #[differentiate]
    pub fn grid_energy(g: &Grid) -> f64 {
        g.rows
            .iter()
            .map(|row| {
                row.windows(2)
                    .map(|w| (w[1] - w[0]).dot(w[1] - w[0]))
                    .sum::<f64>()
            })
            .sum::<f64>()
            * g.k
    }

    impl V2 {
        /// The plain 2-D cross product, for the closed forms.
        pub fn plain_cross(&self, o: &V2) -> f64 {
            self.x * o.y - self.y * o.x
        }
    }

    #[differentiate]
    impl V2 {
        pub fn cross(&self, o: &V2) -> f64 {
            self.x * o.y - self.y * o.x
        }
    }

    /// A rectangle by its centre and half-extents.
    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
    pub struct Rect {
        pub c: V2,
        pub h: V2,
    }

    #[differentiate]
    impl Rect {
        pub fn corners(&self) -> [V2; 4] {
            [
                self.c - self.h,
                V2 {
                    x: self.c.x + self.h.x,
                    y: self.c.y - self.h.y,
                },
                self.c + self.h,
                V2 {
                    x: self.c.x - self.h.x,
                    y: self.c.y + self.h.y,
                },
            ]
        }

        pub fn diagonal(&self) -> Vec<V2> {
            vec![self.c - self.h, self.c + self.h]
        }

        /// The shoelace formula over the corners a method returns: `4·hx·hy`.
        pub fn area(&self) -> f64 {
            let p = self.corners();
            let mut a = 0.0;
            for i in 0..4 {
                a += 0.5 * p[i].cross(&p[(i + 1) % 4]);
            }
            a
        }

        /// The length of the diagonal a method returns as a `Vec`: `2·|h|`.
        pub fn diag(&self) -> f64 {
            let v = self.diagonal();
            (v[1] - v[0]).norm()
        }

        /// The perimeter, over the corners paired with the next ones: `4·(hx + hy)`.
        pub fn perimeter(&self) -> f64 {
            let p = self.corners();
            p.iter()
                .zip(p.iter().cycle().skip(1))
                .map(|(a, b)| (*b - *a).norm())
                .sum()
        }
    }

    /// A trait of shapes, implemented for two structs of the module.
    pub trait Shape {
        fn area(&self) -> f64;
        fn centroid(&self) -> V2;
    }

    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
    pub struct Disc {
        pub c: V2,
        pub r: f64,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
    pub struct Tri {
        pub a: V2,
        pub b: V2,
        pub c: V2,
    }

    #[differentiate]
    impl Shape for Disc {
        fn area(&self) -> f64 {
            std::f64::consts::PI * self.r * self.r
        }
        fn centroid(&self) -> V2 {
            self.c
        }
    }

    #[differentiate]
    impl Shape for Tri {
        fn area(&self) -> f64 {
            0.5 * (self.b - self.a).cross(&(self.c - self.a))
        }
        fn centroid(&self) -> V2 {
            (self.a + self.b + self.c) * (1.0 / 3.0)
        }
    }

    #[differentiate]
    impl Tri {
        /// `|centroid − other's centroid| + |a − other's a|`.
        pub fn gap(&self, other: &Self) -> f64 {
            (self.centroid() - other.centroid()).norm() + (self.a - other.a).norm()
        }
    }

    /// The first moment of a disc, through the trait's methods: `π·r²·|c|`.
    #[differentiate]
    pub fn moment(d: &Disc) -> f64 {
        let m = d.centroid() * d.area();
        m.norm()
    }

    /// A module inside the marked one sees its structs: `½m·vel·vel`.
    pub mod inner {
        use super::*;

        #[differentiate]
        pub fn kinetic(b: &Particle) -> f64 {
            0.5 * b.m * b.vel.dot(b.vel)
        }
    }
}

/// Vectors with two impls of `*` (a vector times a float, and the dot product of two
/// vectors written as `*`), named through an alias in the bodies' fields.
#[autodiff::differentiate]
mod dots {
    use autodiff::{Differentiable, differentiate};
    use std::ops::{Add, Div, Mul, Sub};

    pub type Vec3 = V3;

    #[derive(Clone, Copy, Debug, Default, PartialEq, Differentiable)]
    pub struct V3 {
        pub x: f64,
        pub y: f64,
        pub z: f64,
    }

    #[differentiate]
    impl Add for V3 {
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
    impl Sub for V3 {
        type Output = V3;
        fn sub(self, o: V3) -> V3 {
            V3 {
                x: self.x - o.x,
                y: self.y - o.y,
                z: self.z - o.z,
            }
        }
    }

    #[differentiate]
    impl Mul<f64> for V3 {
        type Output = V3;
        fn mul(self, s: f64) -> V3 {
            V3 {
                x: self.x * s,
                y: self.y * s,
                z: self.z * s,
            }
        }
    }

    /// The dot product.
    #[differentiate]
    impl Mul for V3 {
        type Output = f64;
        fn mul(self, o: V3) -> f64 {
            self.x * o.x + self.y * o.y + self.z * o.z
        }
    }

    #[differentiate]
    impl Div<f64> for V3 {
        type Output = V3;
        fn div(self, s: f64) -> V3 {
            self * (1.0 / s)
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
    pub struct Body {
        pub pos: Vec3,
        pub vel: Vec3,
        pub m: f64,
    }

    /// A spring between two bodies and the speed along it: with `d = b.pos − a.pos`, `l =
    /// √(d·d)`, `u = d/l`, `f = ½k·(l − L)² + b.vel·u`.
    #[differentiate]
    pub fn spring(a: &Body, b: &Body, k: f64, rest: f64) -> f64 {
        let d = b.pos - a.pos;
        let l = (d * d).sqrt();
        let u = d / l;
        0.5 * k * (l - rest) * (l - rest) + b.vel * u
    }

    #[derive(Clone, Debug, PartialEq, Differentiable)]
    pub struct Anchored {
        pub bodies: Vec<Body>,
        pub anchor: Vec3,
        pub k: f64,
    }

    #[differentiate]
    impl Anchored {
        /// The pull of the anchor on body `i`: `k·(anchor − posᵢ)`.
        pub fn pull(&self, i: usize) -> V3 {
            (self.anchor - self.bodies[i].pos) * self.k
        }

        /// The power of the pulls, gathered first: `Σᵢ k·(anchor − posᵢ)·velᵢ`.
        pub fn power(&self) -> f64 {
            let mut fs = Vec::new();
            for i in 0..self.bodies.len() {
                fs.push(self.pull(i));
            }
            let mut p = 0.0;
            for i in 0..fs.len() {
                p += fs[i] * self.bodies[i].vel;
            }
            p
        }
    }

    /// A quaternion with three impls of `*`: the Hamilton product, a scale by a float, and the
    /// rotation of a vector (`q * v`, `Output = V3`).
    pub mod rigid {
        use super::V3;
        use autodiff::{Differentiable, differentiate};
        use std::ops::{Add, Mul};

        #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
        pub struct Quat {
            pub w: f64,
            pub v: V3,
        }

        fn cross(a: V3, b: V3) -> V3 {
            V3 {
                x: a.y * b.z - a.z * b.y,
                y: a.z * b.x - a.x * b.z,
                z: a.x * b.y - a.y * b.x,
            }
        }

        #[differentiate]
        fn cross_d(a: V3, b: V3) -> V3 {
            V3 {
                x: a.y * b.z - a.z * b.y,
                y: a.z * b.x - a.x * b.z,
                z: a.x * b.y - a.y * b.x,
            }
        }

        #[differentiate]
        impl Mul for Quat {
            type Output = Quat;
            fn mul(self, o: Quat) -> Quat {
                Quat {
                    w: self.w * o.w - self.v * o.v,
                    v: o.v * self.w + self.v * o.w + cross_d(self.v, o.v),
                }
            }
        }

        #[differentiate]
        impl Mul<f64> for Quat {
            type Output = Quat;
            fn mul(self, s: f64) -> Quat {
                Quat {
                    w: self.w * s,
                    v: self.v * s,
                }
            }
        }

        /// The rotation of a vector by a unit quaternion, `q·(0, p)·q*`.
        #[differentiate]
        impl Mul<V3> for Quat {
            type Output = V3;
            fn mul(self, p: V3) -> V3 {
                let c = Quat {
                    w: self.w,
                    v: self.v * -1.0,
                };
                (self * Quat { w: 0.0, v: p } * c).v
            }
        }

        #[differentiate]
        impl Add for Quat {
            type Output = Quat;
            fn add(self, o: Quat) -> Quat {
                Quat {
                    w: self.w + o.w,
                    v: self.v + o.v,
                }
            }
        }

        #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
        pub struct Body {
            pub q: Quat,
            pub x: V3,
            pub offset: V3,
        }

        #[differentiate]
        impl Body {
            /// Where the body's offset point is: `x + R(q)·offset`.
            pub fn tip(&self) -> V3 {
                self.x + self.q * self.offset
            }

            /// The orientation after a step of angular velocity `w` and its renormalization.
            pub fn spun(&self, w: V3, dt: f64) -> Quat {
                let dq = Quat { w: 0.0, v: w } * self.q;
                let q = self.q + dq * (0.5 * dt);
                q * (1.0 / (q.w * q.w + q.v * q.v).sqrt())
            }
        }

        /// The plain rotation, for the closed forms.
        pub fn rotate(q: Quat, p: V3) -> V3 {
            let t = cross(q.v, p) * 2.0;
            p + t * q.w + cross(q.v, t)
        }
    }
}

use sim::*;

fn v2(x: f64, y: f64) -> V2 {
    V2 { x, y }
}

fn particle(pos: V2, vel: V2, m: f64) -> Particle {
    Particle { pos, vel, m }
}

#[track_caller]
fn fd_struct<P: autodiff::Differentiable<Scalar = f64>>(
    what: &str,
    f: impl Fn(&P) -> f64,
    x: &P,
    g: &P,
) {
    let r = gradcheck(|p: &P| f(p), x, g);
    assert!(r.passed(), "{what}: {r}");
}

#[test]
fn springs_read_through_a_copy_of_the_field() {
    let s = Springs {
        ps: vec![
            particle(v2(0.0, 0.1), v2(0.2, -0.1), 1.0),
            particle(v2(1.1, 0.3), v2(-0.1, 0.3), 1.5),
            particle(v2(2.0, -0.2), v2(0.0, 0.2), 0.8),
        ],
        k: 3.0,
        rest: 0.9,
    };
    let (v, g) = chain_energy_grad(&s);
    assert_eq!(v, chain_energy(&s));
    // ∂E/∂pᵢ = k·(lᵢ − L)·dᵢ/lᵢ − k·(lᵢ₊₁ − L)·dᵢ₊₁/lᵢ₊₁ with dᵢ = pᵢ − pᵢ₋₁, lᵢ = |dᵢ|;
    // ∂E/∂k = Σ ½(lᵢ − L)², ∂E/∂L = −Σ k·(lᵢ − L); velocities and masses 0.
    let n = s.ps.len();
    let mut want = vec![[0.0; 2]; n];
    let (mut dk, mut drest) = (0.0, 0.0);
    for i in 1..n {
        let (a, b) = (s.ps[i - 1].pos, s.ps[i].pos);
        let d = [b.x - a.x, b.y - a.y];
        let l = (d[0] * d[0] + d[1] * d[1]).sqrt();
        for c in 0..2 {
            want[i][c] += s.k * (l - s.rest) * d[c] / l;
            want[i - 1][c] -= s.k * (l - s.rest) * d[c] / l;
        }
        dk += 0.5 * (l - s.rest) * (l - s.rest);
        drest -= s.k * (l - s.rest);
    }
    for i in 0..n {
        close_all(
            &format!("pos {i}"),
            &[g.ps[i].pos.x, g.ps[i].pos.y],
            &want[i],
        );
        close_all(
            &format!("vel, m {i}"),
            &[g.ps[i].vel.x, g.ps[i].vel.y, g.ps[i].m],
            &[0.0; 3],
        );
    }
    close("k", g.k, dk, TOL);
    close("rest", g.rest, drest, TOL);
    fd_struct("chain_energy", chain_energy, &s, &g);
}

#[test]
fn a_method_result_taken_apart() {
    let p = particle(v2(0.4, -0.3), v2(0.7, 0.5), 1.3);
    let dt = 0.2;
    let (v, g) = moved_energy_grad(&p, dt);
    assert_eq!(v, moved_energy(&p, dt));
    // q = pos + vel·dt, u = q/|q|: ∂f/∂pos = vel + m·u, ∂f/∂vel = q + dt·vel + m·dt·u,
    // ∂f/∂m = |q|.
    let q = [p.pos.x + p.vel.x * dt, p.pos.y + p.vel.y * dt];
    let r = (q[0] * q[0] + q[1] * q[1]).sqrt();
    let vel = [p.vel.x, p.vel.y];
    let want = [
        vel[0] + p.m * q[0] / r,
        vel[1] + p.m * q[1] / r,
        q[0] + dt * vel[0] + p.m * dt * q[0] / r,
        q[1] + dt * vel[1] + p.m * dt * q[1] / r,
        r,
    ];
    close_all(
        "moved_energy",
        &[g.pos.x, g.pos.y, g.vel.x, g.vel.y, g.m],
        &want,
    );
    fd_struct("moved_energy", |p: &Particle| moved_energy(p, dt), &p, &g);
}

#[test]
fn windows_of_the_rows_of_a_grid_field() {
    let g = Grid {
        rows: vec![
            vec![v2(0.0, 0.1), v2(1.0, 0.3), v2(2.1, -0.2)],
            vec![v2(0.0, 1.0), v2(0.9, 1.2)],
        ],
        k: 0.7,
    };
    let (v, gg) = grid_energy_grad(&g);
    close("grid_energy", v, grid_energy(&g), TOL);
    // ∂E/∂p_c = 2k·(p_c − p_{c−1}) − 2k·(p_{c+1} − p_c), ∂E/∂k = Σ |p_c − p_{c−1}|².
    let mut dk = 0.0;
    for (r, row) in g.rows.iter().enumerate() {
        for c in 0..row.len() {
            let mut want = [0.0; 2];
            if c > 0 {
                want[0] += 2.0 * g.k * (row[c].x - row[c - 1].x);
                want[1] += 2.0 * g.k * (row[c].y - row[c - 1].y);
                dk += (row[c] - row[c - 1]).dot(row[c] - row[c - 1]);
            }
            if c + 1 < row.len() {
                want[0] -= 2.0 * g.k * (row[c + 1].x - row[c].x);
                want[1] -= 2.0 * g.k * (row[c + 1].y - row[c].y);
            }
            close_all(
                &format!("row {r} point {c}"),
                &[gg.rows[r][c].x, gg.rows[r][c].y],
                &want,
            );
        }
    }
    close("k", gg.k, dk, TOL);
    fd_struct("grid_energy", grid_energy, &g, &gg);
}

#[test]
fn a_module_inside_the_marked_one() {
    let b = particle(v2(0.3, 1.2), v2(0.5, -0.4), 1.7);
    let (v, g) = inner::kinetic_grad(&b);
    assert_eq!(v, inner::kinetic(&b));
    // ∂/∂vel = m·vel, ∂/∂m = ½·vel·vel, ∂/∂pos = 0.
    close_all(
        "kinetic",
        &[g.pos.x, g.pos.y, g.vel.x, g.vel.y, g.m],
        &[
            0.0,
            0.0,
            b.m * b.vel.x,
            b.m * b.vel.y,
            0.5 * b.vel.dot(b.vel),
        ],
    );
    fd_struct("kinetic", inner::kinetic, &b, &g);
}

fn v3(x: f64, y: f64, z: f64) -> dots::V3 {
    dots::V3 { x, y, z }
}

fn flat3(v: dots::V3) -> [f64; 3] {
    [v.x, v.y, v.z]
}

#[test]
fn two_impls_of_one_operator_and_a_dot_product() {
    use dots::*;
    let a = Body {
        pos: v3(0.0, 0.1, 0.2),
        vel: v3(0.3, 0.0, -0.1),
        m: 1.2,
    };
    let b = Body {
        pos: v3(1.1, -0.2, 0.4),
        vel: v3(-0.2, 0.5, 0.3),
        m: 0.9,
    };
    let (k, rest) = (3.0, 0.8);
    let (v, (ga, gb, gk, grest)) = spring_grad(&a, &b, k, rest);
    assert_eq!(v, spring(&a, &b, k, rest));
    // ∂f/∂b.pos = k·(l − L)·u + (b.vel − (b.vel·u)·u)/l = −∂f/∂a.pos, ∂f/∂b.vel = u,
    // ∂f/∂k = ½(l − L)², ∂f/∂L = −k·(l − L); the velocity of `a` and the masses give 0.
    let d = [b.pos.x - a.pos.x, b.pos.y - a.pos.y, b.pos.z - a.pos.z];
    let l = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    let u: Vec<f64> = d.iter().map(|t| t / l).collect();
    let bv = flat3(b.vel);
    let vu: f64 = (0..3).map(|c| bv[c] * u[c]).sum();
    let gpos: Vec<f64> = (0..3)
        .map(|c| k * (l - rest) * u[c] + (bv[c] - vu * u[c]) / l)
        .collect();
    close_all("b.pos", &flat3(gb.pos), &gpos);
    close_all(
        "a.pos",
        &flat3(ga.pos),
        &gpos.iter().map(|t| -t).collect::<Vec<_>>(),
    );
    close_all("b.vel", &flat3(gb.vel), &u);
    close_all("a.vel", &flat3(ga.vel), &[0.0; 3]);
    close("masses", ga.m + gb.m, 0.0, TOL);
    close("k", gk, 0.5 * (l - rest) * (l - rest), TOL);
    close("rest", grest, -k * (l - rest), TOL);
    fd_struct("spring a", |a: &Body| spring(a, &b, k, rest), &a, &ga);
    fd_struct("spring b", |b: &Body| spring(&a, b, k, rest), &b, &gb);
    // Forward mode picks the same impls: the tangent along b.vel is ∇f·db.vel.
    let zero = Body {
        pos: v3(0.0, 0.0, 0.0),
        vel: v3(0.0, 0.0, 0.0),
        m: 0.0,
    };
    let db = Body {
        vel: v3(0.4, -0.1, 0.2),
        ..zero
    };
    let (y, t) = spring_jvp(&a, &b, k, rest, &zero, &db, 0.0, 0.0);
    assert_eq!(y, v);
    close(
        "spring tangent",
        t,
        0.4 * u[0] - 0.1 * u[1] + 0.2 * u[2],
        TOL,
    );
}

#[test]
fn a_method_result_pushed_and_fields_named_through_an_alias() {
    use dots::*;
    let w = Anchored {
        bodies: vec![
            Body {
                pos: v3(0.0, 0.1, 0.2),
                vel: v3(0.3, 0.0, -0.1),
                m: 1.2,
            },
            Body {
                pos: v3(1.1, -0.2, 0.4),
                vel: v3(-0.2, 0.5, 0.3),
                m: 0.9,
            },
        ],
        anchor: v3(0.5, 0.5, -0.5),
        k: 1.7,
    };
    let (v, g) = Anchored::power_grad(&w);
    assert_eq!(v, w.power());
    // ∂/∂posᵢ = −k·velᵢ, ∂/∂velᵢ = k·(anchor − posᵢ), ∂/∂anchor = k·Σ velᵢ,
    // ∂/∂k = Σ (anchor − posᵢ)·velᵢ.
    let an = flat3(w.anchor);
    let mut ganchor = [0.0; 3];
    let mut gk = 0.0;
    for (b, gb) in w.bodies.iter().zip(&g.bodies) {
        let (p, vel) = (flat3(b.pos), flat3(b.vel));
        close_all(
            "pos",
            &flat3(gb.pos),
            &vel.iter().map(|t| -w.k * t).collect::<Vec<_>>(),
        );
        close_all(
            "vel",
            &flat3(gb.vel),
            &(0..3).map(|c| w.k * (an[c] - p[c])).collect::<Vec<_>>(),
        );
        for c in 0..3 {
            ganchor[c] += w.k * vel[c];
            gk += (an[c] - p[c]) * vel[c];
        }
    }
    close_all("anchor", &flat3(g.anchor), &ganchor);
    close("k", g.k, gk, TOL);
    fd_struct("power", |w: &Anchored| w.power(), &w, &g);
}

#[test]
fn three_impls_of_one_operator_on_a_quaternion() {
    use dots::rigid::*;
    let n = (0.81f64 + 0.01 + 0.09 + 0.04).sqrt();
    let q = Quat {
        w: 0.9 / n,
        v: v3(0.1 / n, 0.3 / n, -0.2 / n),
    };
    let b = Body {
        q,
        x: v3(0.0, 0.5, 1.0),
        offset: v3(1.0, -0.4, 0.2),
    };
    let (t, back) = Body::tip_vjp(&b);
    let want = b.x + rotate(q, b.offset);
    close_all("tip", &flat3(t), &flat3(want));
    let c = v3(0.2, -0.3, 1.0);
    let g = back(c);
    // ∂(c·tip)/∂x = c, ∂/∂offset = Rᵀc, whose k-th entry is c·(R eₖ).
    close_all("x", &flat3(g.x), &flat3(c));
    let rt: Vec<f64> = [v3(1.0, 0.0, 0.0), v3(0.0, 1.0, 0.0), v3(0.0, 0.0, 1.0)]
        .iter()
        .map(|&e| {
            let r = rotate(q, e);
            c.x * r.x + c.y * r.y + c.z * r.z
        })
        .collect();
    close_all("offset", &flat3(g.offset), &rt);
    let dot_c = |t: dots::V3| c.x * t.x + c.y * t.y + c.z * t.z;
    fd_struct("tip", |b: &Body| dot_c(b.tip()), &b, &g);
    // The renormalized step is a unit quaternion; its gradient against finite differences.
    let w = v3(0.5, -0.2, 1.0);
    let (s, back) = Body::spun_vjp(&b, w, 0.1);
    assert_eq!(s, b.spun(w, 0.1));
    close("unit", s.w * s.w + s.v * s.v, 1.0, TOL);
    let seed = Quat {
        w: 0.3,
        v: v3(1.0, -0.5, 0.25),
    };
    let (gb, gw, _) = back(seed);
    let along = |s: Quat| 0.3 * s.w + s.v.x - 0.5 * s.v.y + 0.25 * s.v.z;
    fd_struct("spun body", |b: &Body| along(b.spun(w, 0.1)), &b, &gb);
    fd_struct("spun w", |w: &dots::V3| along(b.spun(*w, 0.1)), &w, &gw);
}

#[test]
fn containers_of_structs_a_method_returns() {
    let r = Rect {
        c: v2(0.3, -0.2),
        h: v2(1.2, 0.7),
    };
    let p = r.corners();
    let shoelace: f64 = (0..4)
        .map(|i| 0.5 * p[i].plain_cross(&p[(i + 1) % 4]))
        .sum();
    // area = 4·hx·hy: ∂/∂h = (4hy, 4hx), ∂/∂c = 0.
    let (v, g) = Rect::area_grad(&r);
    close("area", v, shoelace, TOL);
    close("area value", v, 4.0 * r.h.x * r.h.y, TOL);
    close_all(
        "area",
        &[g.c.x, g.c.y, g.h.x, g.h.y],
        &[0.0, 0.0, 4.0 * r.h.y, 4.0 * r.h.x],
    );
    fd_struct("area", |r: &Rect| r.area(), &r, &g);
    // diag = 2|h|: ∂/∂h = 2h/|h|.
    let (v, g) = Rect::diag_grad(&r);
    assert_eq!(v, r.diag());
    let hn = r.h.norm();
    close_all(
        "diag",
        &[g.c.x, g.c.y, g.h.x, g.h.y],
        &[0.0, 0.0, 2.0 * r.h.x / hn, 2.0 * r.h.y / hn],
    );
    fd_struct("diag", |r: &Rect| r.diag(), &r, &g);
    // perimeter = 4(hx + hy) for positive half-extents: ∂/∂h = (4, 4).
    let (v, g) = Rect::perimeter_grad(&r);
    close("perimeter", v, r.perimeter(), TOL);
    close_all(
        "perimeter",
        &[g.c.x, g.c.y, g.h.x, g.h.y],
        &[0.0, 0.0, 4.0, 4.0],
    );
    fd_struct("perimeter", |r: &Rect| r.perimeter(), &r, &g);
}

#[test]
fn what_a_trait_method_returns() {
    let (p, q) = (
        Tri {
            a: v2(1.0, 0.0),
            b: v2(2.0, 0.1),
            c: v2(1.4, 1.2),
        },
        Tri {
            a: v2(-1.0, 0.0),
            b: v2(-0.2, -0.3),
            c: v2(-0.6, 0.9),
        },
    );
    let (v, (gp, gq)) = Tri::gap_grad(&p, &q);
    assert_eq!(v, p.gap(&q));
    // With u the unit vector from q's centroid to p's and w the one from q.a to p.a:
    // ∂/∂p.a = u/3 + w, ∂/∂p.b = ∂/∂p.c = u/3, and q's are their negatives.
    let cen = |t: &Tri| [(t.a.x + t.b.x + t.c.x) / 3.0, (t.a.y + t.b.y + t.c.y) / 3.0];
    let (cp, cq) = (cen(&p), cen(&q));
    let d = [cp[0] - cq[0], cp[1] - cq[1]];
    let dn = (d[0] * d[0] + d[1] * d[1]).sqrt();
    let e = [p.a.x - q.a.x, p.a.y - q.a.y];
    let en = (e[0] * e[0] + e[1] * e[1]).sqrt();
    let u = [d[0] / dn / 3.0, d[1] / dn / 3.0];
    let want_p = [u[0] + e[0] / en, u[1] + e[1] / en, u[0], u[1], u[0], u[1]];
    let flat_tri = |t: &Tri| [t.a.x, t.a.y, t.b.x, t.b.y, t.c.x, t.c.y];
    close_all("gap p", &flat_tri(&gp), &want_p);
    close_all(
        "gap q",
        &flat_tri(&gq),
        &want_p.iter().map(|t| -t).collect::<Vec<_>>(),
    );
    fd_struct("gap p", |t: &Tri| t.gap(&q), &p, &gp);
    fd_struct("gap q", |t: &Tri| p.gap(t), &q, &gq);

    let disc = Disc {
        c: v2(0.2, -0.3),
        r: 0.5,
    };
    let (v, g) = moment_grad(&disc);
    assert_eq!(v, moment(&disc));
    // π·r²·|c|: ∂/∂c = π·r²·c/|c|, ∂/∂r = 2π·r·|c|.
    let pi = std::f64::consts::PI;
    let cn = disc.c.norm();
    close_all(
        "moment",
        &[g.c.x, g.c.y, g.r],
        &[
            pi * disc.r * disc.r * disc.c.x / cn,
            pi * disc.r * disc.r * disc.c.y / cn,
            2.0 * pi * disc.r * cn,
        ],
    );
    fd_struct("moment", moment, &disc, &g);
}
