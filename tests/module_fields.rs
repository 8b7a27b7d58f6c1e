//! Operators and methods on fields of a struct type, inside a module marked `#[differentiate]`:
//! physics code written as it is read, `b.pos + b.vel * dt`, `b.vel.norm()`, `-self.vel`,
//! `w.bodies[j].pos - w.bodies[i].pos`, `s.pos += s.vel * dt`. The module declares the structs,
//! so the macro sees that `pos` is a `V3` and calls `V3`'s differentiated operators there;
//! outside such a module a field's type is not in view (see the README's supported subset).
//! Each function is checked against its derivative written out beside it and against central
//! finite differences.

mod common;
use common::*;
use ndarray::{Array1, Array2};

#[autodiff::differentiate]
mod sim {
    use autodiff::{Differentiable, differentiate};
    use std::ops::{Add, AddAssign, Mul, Neg, Sub};

    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
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

    #[differentiate]
    impl Neg for V3 {
        type Output = V3;
        fn neg(self) -> V3 {
            V3 {
                x: -self.x,
                y: -self.y,
                z: -self.z,
            }
        }
    }

    /// A float on the left, `dt * v`: followed in the module through the struct.
    #[differentiate]
    impl Mul<V3> for f64 {
        type Output = V3;
        fn mul(self, v: V3) -> Self::Output {
            V3 {
                x: self * v.x,
                y: self * v.y,
                z: self * v.z,
            }
        }
    }

    // Not differentiated: a `+=` is followed as `a = a + b`, through `Add`.
    impl AddAssign for V3 {
        fn add_assign(&mut self, o: V3) {
            *self = *self + o;
        }
    }

    #[differentiate]
    impl V3 {
        pub fn dot(&self, o: &V3) -> f64 {
            self.x * o.x + self.y * o.y + self.z * o.z
        }
        pub fn norm(&self) -> f64 {
            self.dot(self).sqrt()
        }
        pub fn scale(&self, s: f64) -> V3 {
            V3 {
                x: self.x * s,
                y: self.y * s,
                z: self.z * s,
            }
        }
        pub fn cross(&self, o: &V3) -> V3 {
            V3 {
                x: self.y * o.z - self.z * o.y,
                y: self.z * o.x - self.x * o.z,
                z: self.x * o.y - self.y * o.x,
            }
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
    pub struct Body {
        pub pos: V3,
        pub vel: V3,
        pub mass: f64,
    }

    #[derive(Clone, Debug, PartialEq, Differentiable)]
    pub struct World {
        pub bodies: Vec<Body>,
        pub g: f64,
    }

    /// One explicit Euler step's position and the body's kinetic energy:
    /// `p = pos + vel·dt`, `f = |p|² + ½·m·|vel|`.
    #[differentiate(wrt(b))]
    pub fn drift(b: &Body, dt: f64) -> f64 {
        let p = b.pos + b.vel * dt;
        p.dot(&p) + 0.5 * b.mass * b.vel.norm()
    }

    #[differentiate]
    impl Body {
        /// `½·m·v·v`.
        pub fn kinetic(&self) -> f64 {
            0.5 * self.mass * self.vel.dot(&self.vel)
        }

        /// The body after a step of `dt` with its velocity reversed: a new `Body` built from
        /// its fields' operators.
        pub fn bounced(&self, dt: f64) -> Body {
            Body {
                pos: self.pos + self.vel * dt,
                vel: -self.vel,
                mass: self.mass,
            }
        }

        /// The angular momentum's `z`: `m·(pos × vel)_z`.
        pub fn spin(&self) -> f64 {
            self.pos.cross(&self.vel).z * self.mass
        }
    }

    /// The pairwise gravitational potential, `−g·Σ_{i<j} mᵢ·mⱼ / |pⱼ − pᵢ|`.
    #[differentiate(wrt(w))]
    pub fn potential(w: &World) -> f64 {
        let n = w.bodies.len();
        let mut u = 0.0;
        for i in 0..n {
            for j in i + 1..n {
                let d = w.bodies[j].pos - w.bodies[i].pos;
                u -= w.g * w.bodies[i].mass * w.bodies[j].mass / d.norm();
            }
        }
        u
    }

    /// Semi-implicit Euler under a constant pull toward the origin, on a local copy whose
    /// fields are assigned: `vel += −k·pos·dt`, `pos += vel·dt`, then `|pos|²`.
    #[differentiate(wrt(b, k))]
    pub fn orbit(b: &Body, k: f64, dt: f64, steps: usize) -> f64 {
        let mut s = *b;
        for _ in 0..steps {
            s.vel += -(s.pos * (k * dt));
            s.pos = s.pos + s.vel * dt;
        }
        s.pos.dot(&s.pos)
    }

    /// A body taken apart by a pattern: `m·|pos + vel·dt|²`.
    #[differentiate(wrt(b))]
    pub fn destructured(b: &Body, dt: f64) -> f64 {
        let Body { pos, vel, mass } = *b;
        let q = pos + vel * dt;
        q.dot(&q) * mass
    }

    /// A tuple struct holding a vector beside its weight: `|a.0 − b.0|·a.1`.
    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
    pub struct Weighted(pub V3, pub f64);

    #[differentiate]
    pub fn weighted_gap(a: &Weighted, b: &Weighted) -> f64 {
        (a.0 - b.0).norm() * a.1
    }

    /// Every body moved in place through a `&mut` buffer, by a helper called three times:
    /// `Σ |pos + 3·dt·vel|²`.
    #[differentiate]
    pub fn step_all(bodies: &mut Vec<Body>, dt: f64) {
        for b in bodies.iter_mut() {
            b.pos = b.pos + b.vel * dt;
        }
    }

    #[differentiate(wrt(bodies))]
    pub fn after_steps(bodies: &[Body], dt: f64) -> f64 {
        let mut qs = bodies.to_vec();
        for _ in 0..3 {
            step_all(&mut qs, dt);
        }
        qs.iter().map(|q| q.pos.dot(&q.pos)).sum()
    }

    /// Fields of the elements of a local copy, assigned by index (semi-implicit Euler with a
    /// pull scaled by each body's mass), then a closure over the copy's items.
    #[differentiate(wrt(bodies))]
    pub fn indexed_update(bodies: &[Body], dt: f64) -> f64 {
        let mut qs = bodies.to_vec();
        for i in 0..qs.len() {
            qs[i].vel = qs[i].vel - qs[i].pos * (dt * qs[i].mass);
            qs[i].pos = qs[i].pos + qs[i].vel * dt;
        }
        qs.iter().map(|q| q.vel.norm() + q.pos.x).sum()
    }

    /// Settings kept beside the fitted rate, marked data: what is read out of them (`p.cfg.dt`,
    /// `self.cfg.steps`) is data, as the module shows the macro the field's mark.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Settings {
        pub dt: f64,
        pub steps: usize,
    }

    #[derive(Clone, Debug, PartialEq, Differentiable)]
    pub struct Decay {
        pub k: f64,
        #[differentiable(data)]
        pub cfg: Settings,
    }

    /// Explicit Euler on `x' = −k·x`: `x₀·(1 − k·dt)^steps`.
    #[differentiate]
    pub fn decayed(p: &Decay, x0: f64) -> f64 {
        let mut x = x0;
        for _ in 0..p.cfg.steps {
            x = x - p.k * x * p.cfg.dt;
        }
        x
    }

    #[differentiate]
    impl Decay {
        /// The same, as a method reading its own settings.
        pub fn run(&self, x0: f64) -> f64 {
            let mut x = x0;
            for _ in 0..self.cfg.steps {
                x -= self.k * x * self.cfg.dt;
            }
            x
        }
    }

    /// A body inside another struct, its fields two levels down: `½k·|pos + vel·dt − anchor|² +
    /// |vel·m|`.
    #[derive(Clone, Debug, PartialEq, Differentiable)]
    pub struct Tethered {
        pub body: Body,
        pub anchor: V3,
        pub k: f64,
    }

    #[differentiate]
    pub fn tether_energy(s: &Tethered, dt: f64) -> f64 {
        let d = s.body.pos + s.body.vel * dt - s.anchor;
        0.5 * s.k * d.dot(&d) + (s.body.vel * s.body.mass).norm()
    }

    /// Methods chained on what a method of a field returned, given another field:
    /// `2·pos_a·vel_b + m_a·|vel_a − vel_b|`.
    #[differentiate]
    pub fn chained(a: &Body, b: &Body) -> f64 {
        a.pos.scale(2.0).dot(&b.vel) + (a.vel - b.vel).norm() * a.mass
    }

    /// Floats on the left of the vectors, as physics is written: `|pos + dt·vel|² + k·|dt·vel|`
    /// with `2·pos` beside it: `f = |pos + dt·vel + 2·pos|²·½ + k·|dt·vel|`.
    #[differentiate(wrt(b, k))]
    pub fn scalar_left(b: &Body, dt: f64, k: f64) -> f64 {
        let q = b.pos + dt * b.vel + 2.0 * b.pos;
        0.5 * q.dot(&q) + k * (dt * b.vel).norm()
    }

    /// A delay line with its position and stride kept beside the samples, and the order it
    /// reads them in: integer fields whose declared types the module shows, taken as a
    /// parameter whose literal the function does not see.
    #[derive(Clone, Debug, PartialEq, Differentiable)]
    pub struct Delay {
        pub buf: Vec<f64>,
        pub head: usize,
        pub step: usize,
        pub order: Vec<usize>,
    }

    /// Writes `g·xᵢ` at the head, advancing it by the stride; swaps the first and last of the
    /// order each time; returns `Σ (k + 1)·buf[order[k]]`.
    #[differentiate(wrt(g, xs))]
    pub fn delayed(r: &Delay, g: f64, xs: &[f64]) -> f64 {
        let mut r = r.clone();
        let n = r.buf.len();
        for &x in xs {
            r.buf[r.head] = g * x;
            r.head += r.step;
            r.head %= n;
            r.order.swap(0, n - 1);
        }
        (0..n).map(|k| (k + 1) as f64 * r.buf[r.order[k]]).sum()
    }

    /// A rotation held as a quaternion of a scalar and a vector part, whose `rotate` returns a
    /// vector: methods on what it returned are the vector's, as the module declares its result
    /// type (`p + 2w·(u×p) + 2·u×(u×p)`).
    #[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
    pub struct Quat {
        pub w: f64,
        pub u: V3,
    }

    #[differentiate]
    impl Quat {
        pub fn rotate(&self, p: V3) -> V3 {
            let t = self.u.cross(&p) * 2.0;
            p + t * self.w + self.u.cross(&t)
        }
    }

    /// `R(q)·p · t + |R(q)·t × p|²`.
    #[differentiate]
    pub fn aligned(q: &Quat, p: V3, t: V3) -> f64 {
        let c = q.rotate(t).cross(&p);
        q.rotate(p).dot(&t) + c.dot(&c)
    }

    /// The rate of change of a body in a harmonic well, `(vel, −k·pos)`, as a `Body` of
    /// derivatives (mass unchanged).
    #[differentiate]
    pub fn rate(b: &Body, k: f64) -> Body {
        Body {
            pos: b.vel,
            vel: b.pos * (-k),
            mass: 0.0,
        }
    }

    /// The speed of a body, `|vel|`.
    #[differentiate]
    pub fn speed(b: &Body) -> f64 {
        b.vel.norm()
    }

    /// One midpoint step through the module's functions, whose results are bound without a
    /// type (`let k1 = rate(&b, k);`, `let s = speed(&b);`): `|pos₁|² + s·h` with
    /// `pos₁ = pos + h·(vel − ½h·k·pos)`.
    #[differentiate(wrt(b, k))]
    pub fn midpoint(b: &Body, k: f64, h: f64) -> f64 {
        let k1 = rate(b, k);
        let mid = Body {
            pos: b.pos + k1.pos * (0.5 * h),
            vel: b.vel + k1.vel * (0.5 * h),
            mass: b.mass,
        };
        let k2 = rate(&mid, k);
        let s = speed(b);
        let p1 = b.pos + k2.pos * h;
        p1.dot(&p1) + s * h
    }

    /// Integer fields given methods that floats have too, beside a vector field given methods
    /// named like a library type's (`cumsum`, `sum`): each is its declared type's.
    #[derive(Clone, Debug, PartialEq, Differentiable)]
    pub struct Shifted {
        pub v: V3,
        pub shift: i32,
        pub n: u32,
        pub w: f64,
    }

    #[differentiate]
    impl V3 {
        pub fn cumsum(&self) -> V3 {
            V3 {
                x: self.x,
                y: self.x + self.y,
                z: self.x + self.y + self.z,
            }
        }
        pub fn sum(&self) -> f64 {
            self.x + self.y + self.z
        }
    }

    #[differentiate]
    impl Shifted {
        /// `(3x + 2y + z)·w·s + n²·(x + y + z)`, `s = |shift| + sign(shift)`.
        pub fn value(&self) -> f64 {
            let s = self.shift.abs() as f64 + self.shift.signum() as f64;
            self.v.cumsum().sum() * self.w * s + self.n.pow(2) as f64 * self.v.sum()
        }
    }

    /// The total kinetic energy over a slice of bodies, each read through a loop's item.
    #[differentiate]
    pub fn total_kinetic(bodies: &[Body]) -> f64 {
        let mut e = 0.0;
        for b in bodies.iter() {
            e += b.kinetic() + (b.pos - b.vel).norm();
        }
        e
    }
}

use sim::*;

fn v3(x: f64, y: f64, z: f64) -> V3 {
    V3 { x, y, z }
}

fn flat(b: &Body) -> Vec<f64> {
    vec![b.pos.x, b.pos.y, b.pos.z, b.vel.x, b.vel.y, b.vel.z, b.mass]
}

fn body(p: &[f64]) -> Body {
    Body {
        pos: v3(p[0], p[1], p[2]),
        vel: v3(p[3], p[4], p[5]),
        mass: p[6],
    }
}

/// Two bodies, the second with its own values.
fn two_bodies() -> Vec<Body> {
    vec![
        sample(),
        Body {
            pos: v3(-0.6, 0.8, 0.1),
            vel: v3(0.0, 0.1, 0.2),
            mass: 0.7,
        },
    ]
}

/// A gradient over a slice of bodies against central finite differences of `f`.
#[track_caller]
fn fd_bodies(what: &str, f: impl Fn(&[Body]) -> f64, bodies: &[Body], g: &[Body]) {
    let x: Vec<f64> = bodies.iter().flat_map(flat).collect();
    let gx: Vec<f64> = g.iter().flat_map(flat).collect();
    fd_vec(
        what,
        |q| f(&q.chunks(7).map(body).collect::<Vec<_>>()),
        &x,
        &gx,
    );
}

fn sample() -> Body {
    Body {
        pos: v3(1.0, -0.5, 0.3),
        vel: v3(0.4, 0.2, -0.7),
        mass: 1.5,
    }
}

#[test]
fn an_operator_on_fields_of_a_struct_type() {
    let b = sample();
    let dt = 0.1;
    let (v, g) = drift_grad(&b, dt);
    assert_eq!(v, drift(&b, dt));
    // ∂/∂pos = 2p, ∂/∂vel = 2p·dt + ½·m·vel/|vel|, ∂/∂m = ½|vel|.
    let p = [
        b.pos.x + b.vel.x * dt,
        b.pos.y + b.vel.y * dt,
        b.pos.z + b.vel.z * dt,
    ];
    let s = (b.vel.x * b.vel.x + b.vel.y * b.vel.y + b.vel.z * b.vel.z).sqrt();
    let vel = [b.vel.x, b.vel.y, b.vel.z];
    let mut want = vec![2.0 * p[0], 2.0 * p[1], 2.0 * p[2]];
    want.extend((0..3).map(|k| 2.0 * p[k] * dt + 0.5 * b.mass * vel[k] / s));
    want.push(0.5 * s);
    close_all("drift", &flat(&g), &want);
    fd_vec("drift", |q| drift(&body(q), dt), &flat(&b), &flat(&g));
    // Forward mode through the same operators: the tangent along `db` is ∇f·db.
    let db = body(&[0.3, -0.2, 0.5, 0.1, 0.4, -0.6, 0.25]);
    let (y, t) = drift_jvp(&b, dt, &db);
    assert_eq!(y, v);
    let dir: f64 = flat(&g).iter().zip(flat(&db)).map(|(a, b)| a * b).sum();
    close("drift tangent", t, dir, 1e-12);
}

#[test]
fn methods_of_a_block_on_fields_of_self() {
    let b = sample();
    let (v, g) = Body::kinetic_grad(&b);
    assert_eq!(v, b.kinetic());
    let vel = [b.vel.x, b.vel.y, b.vel.z];
    let vv: f64 = vel.iter().map(|t| t * t).sum();
    let mut want = vec![0.0; 3];
    want.extend(vel.iter().map(|t| b.mass * t));
    want.push(0.5 * vv);
    close_all("kinetic", &flat(&g), &want);

    // spin = m·(pos_x·vel_y − pos_y·vel_x).
    let (v, g) = Body::spin_grad(&b);
    assert_eq!(v, b.spin());
    let want = [
        b.mass * b.vel.y,
        -b.mass * b.vel.x,
        0.0,
        -b.mass * b.pos.y,
        b.mass * b.pos.x,
        0.0,
        b.pos.x * b.vel.y - b.pos.y * b.vel.x,
    ];
    close_all("spin", &flat(&g), &want);
    fd_vec("spin", |q| body(q).spin(), &flat(&b), &flat(&g));

    // The pullback of `bounced` maps a seed on the new body back: pos' = pos + vel·dt,
    // vel' = −vel, m' = m.
    let dt = 0.25;
    let (nb, back) = Body::bounced_vjp(&b, dt);
    assert_eq!(nb, b.bounced(dt));
    let seed = body(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    let (gb, gdt) = back(seed);
    let want = [
        1.0,
        2.0,
        3.0,
        1.0 * dt - 4.0,
        2.0 * dt - 5.0,
        3.0 * dt - 6.0,
        7.0,
    ];
    close_all("bounced", &flat(&gb), &want);
    close(
        "bounced dt",
        gdt,
        1.0 * b.vel.x + 2.0 * b.vel.y + 3.0 * b.vel.z,
        TOL,
    );
}

#[test]
fn elements_of_a_field_holding_bodies() {
    let w = World {
        bodies: vec![
            sample(),
            Body {
                pos: v3(-0.6, 0.8, 0.1),
                vel: v3(0.0, 0.1, 0.2),
                mass: 0.7,
            },
            Body {
                pos: v3(0.2, 0.4, -1.1),
                vel: v3(-0.3, 0.0, 0.5),
                mass: 2.2,
            },
        ],
        g: 0.9,
    };
    let (v, gw) = potential_grad(&w);
    assert_eq!(v, potential(&w));
    // ∂u/∂pᵢ = −Σ_{j≠i} g·mᵢ·mⱼ·(pⱼ − pᵢ)/|pⱼ − pᵢ|³ ... written per pair below.
    let n = w.bodies.len();
    let mut gp = vec![[0.0; 3]; n];
    let mut gm = vec![0.0; n];
    let mut gg = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            let (a, c) = (&w.bodies[i], &w.bodies[j]);
            let d = [c.pos.x - a.pos.x, c.pos.y - a.pos.y, c.pos.z - a.pos.z];
            let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
            let k = w.g * a.mass * c.mass / (r * r * r);
            for t in 0..3 {
                gp[j][t] += k * d[t];
                gp[i][t] -= k * d[t];
            }
            gm[i] -= w.g * c.mass / r;
            gm[j] -= w.g * a.mass / r;
            gg -= a.mass * c.mass / r;
        }
    }
    for i in 0..n {
        let got = &gw.bodies[i];
        close_all(
            &format!("pos {i}"),
            &[got.pos.x, got.pos.y, got.pos.z],
            &gp[i],
        );
        close_all(
            &format!("vel {i}"),
            &[got.vel.x, got.vel.y, got.vel.z],
            &[0.0; 3],
        );
        close(&format!("mass {i}"), got.mass, gm[i], TOL);
    }
    close("g", gw.g, gg, TOL);
    let x: Vec<f64> = w.bodies.iter().flat_map(flat).collect();
    let gx: Vec<f64> = gw.bodies.iter().flat_map(flat).collect();
    fd_vec(
        "potential",
        |q| {
            potential(&World {
                bodies: q.chunks(7).map(body).collect(),
                g: w.g,
            })
        },
        &x,
        &gx,
    );
}

#[test]
fn fields_of_a_local_copy_assigned_in_a_loop() {
    let b = sample();
    let (k, dt, steps) = (0.8, 0.05, 12);
    let (v, (gb, gk)) = orbit_grad(&b, k, dt, steps);
    assert_eq!(v, orbit(&b, k, dt, steps));
    fd_vec(
        "orbit body",
        |q| orbit(&body(q), k, dt, steps),
        &flat(&b),
        &flat(&gb),
    );
    fd("orbit k", |t| orbit(&b, t, dt, steps), k, gk);
    // One step, written out: vel' = vel − k·dt·pos, pos' = pos + dt·vel' = (1 − k·dt²)·pos +
    // dt·vel; f = |pos'|², ∂f/∂pos = 2(1 − k·dt²)·pos', ∂f/∂vel = 2·dt·pos'.
    let (_, (g1, _)) = orbit_grad(&b, k, dt, 1);
    let c = 1.0 - k * dt * dt;
    let p1 = [
        c * b.pos.x + dt * b.vel.x,
        c * b.pos.y + dt * b.vel.y,
        c * b.pos.z + dt * b.vel.z,
    ];
    let mut want: Vec<f64> = p1.iter().map(|t| 2.0 * c * t).collect();
    want.extend(p1.iter().map(|t| 2.0 * dt * t));
    want.push(0.0);
    close_all("orbit one step", &flat(&g1), &want);
}

#[test]
fn fields_of_a_loop_item() {
    let bodies = two_bodies();
    let (v, g) = total_kinetic_grad(&bodies);
    assert_eq!(v, total_kinetic(&bodies));
    for (b, gb) in bodies.iter().zip(&g) {
        // ½m|v|² + |pos − vel|.
        let d = [b.pos.x - b.vel.x, b.pos.y - b.vel.y, b.pos.z - b.vel.z];
        let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        let vel = [b.vel.x, b.vel.y, b.vel.z];
        let mut want: Vec<f64> = d.iter().map(|t| t / r).collect();
        want.extend((0..3).map(|k| b.mass * vel[k] - d[k] / r));
        want.push(0.5 * vel.iter().map(|t| t * t).sum::<f64>());
        close_all("total_kinetic", &flat(gb), &want);
    }
    fd_bodies("total_kinetic", |q| total_kinetic(q), &bodies, &g);
}

#[test]
fn a_body_taken_apart_by_a_pattern() {
    let b = sample();
    let dt = 0.3;
    let (v, g) = destructured_grad(&b, dt);
    assert_eq!(v, destructured(&b, dt));
    // q = pos + vel·dt: ∂/∂pos = 2m·q, ∂/∂vel = 2m·dt·q, ∂/∂m = |q|².
    let q = [
        b.pos.x + b.vel.x * dt,
        b.pos.y + b.vel.y * dt,
        b.pos.z + b.vel.z * dt,
    ];
    let mut want: Vec<f64> = q.iter().map(|t| 2.0 * b.mass * t).collect();
    want.extend(q.iter().map(|t| 2.0 * b.mass * dt * t));
    want.push(q.iter().map(|t| t * t).sum());
    close_all("destructured", &flat(&g), &want);
    fd_vec(
        "destructured",
        |p| destructured(&body(p), dt),
        &flat(&b),
        &flat(&g),
    );
}

#[test]
fn positions_of_a_tuple_struct() {
    let a = Weighted(v3(0.3, -0.8, 0.5), 1.2);
    let b = Weighted(v3(-0.5, 0.4, 0.9), 0.6);
    let (v, (ga, gb)) = weighted_gap_grad(&a, &b);
    assert_eq!(v, weighted_gap(&a, &b));
    // d = a.0 − b.0: ∂/∂a.0 = a.1·d/|d| = −∂/∂b.0, ∂/∂a.1 = |d|, ∂/∂b.1 = 0.
    let d = [a.0.x - b.0.x, a.0.y - b.0.y, a.0.z - b.0.z];
    let r = d.iter().map(|t| t * t).sum::<f64>().sqrt();
    let want_a: Vec<f64> = d.iter().map(|t| a.1 * t / r).collect();
    close_all("weighted a.0", &[ga.0.x, ga.0.y, ga.0.z], &want_a);
    close_all(
        "weighted b.0",
        &[gb.0.x, gb.0.y, gb.0.z],
        &want_a.iter().map(|t| -t).collect::<Vec<_>>(),
    );
    close("weighted a.1", ga.1, r, TOL);
    close("weighted b.1", gb.1, 0.0, TOL);
    let f = |p: &[f64]| {
        weighted_gap(
            &Weighted(v3(p[0], p[1], p[2]), p[3]),
            &Weighted(v3(p[4], p[5], p[6]), p[7]),
        )
    };
    let x = [a.0.x, a.0.y, a.0.z, a.1, b.0.x, b.0.y, b.0.z, b.1];
    let gx = [ga.0.x, ga.0.y, ga.0.z, ga.1, gb.0.x, gb.0.y, gb.0.z, gb.1];
    fd_vec("weighted", f, &x, &gx);
}

#[test]
fn bodies_moved_in_place_by_a_helper() {
    let bodies = two_bodies();
    let dt = 0.2;
    let (v, g) = after_steps_grad(&bodies, dt);
    assert_eq!(v, after_steps(&bodies, dt));
    for (b, gb) in bodies.iter().zip(&g) {
        // q = pos + 3·dt·vel: ∂/∂pos = 2q, ∂/∂vel = 6·dt·q, ∂/∂m = 0.
        let q = [
            b.pos.x + 3.0 * dt * b.vel.x,
            b.pos.y + 3.0 * dt * b.vel.y,
            b.pos.z + 3.0 * dt * b.vel.z,
        ];
        let mut want: Vec<f64> = q.iter().map(|t| 2.0 * t).collect();
        want.extend(q.iter().map(|t| 6.0 * dt * t));
        want.push(0.0);
        close_all("after_steps", &flat(gb), &want);
    }
    fd_bodies("after_steps", |q| after_steps(q, dt), &bodies, &g);
}

#[test]
fn fields_of_elements_assigned_by_index() {
    let bodies = two_bodies();
    let dt = 0.2;
    let (v, g) = indexed_update_grad(&bodies, dt);
    assert_eq!(v, indexed_update(&bodies, dt));
    for (b, gb) in bodies.iter().zip(&g) {
        // v' = vel − c·pos (c = dt·m), p' = pos + dt·v'; f = |v'| + p'_x.
        // ∂f/∂v' = v'/|v'| + dt·e_x, ∂f/∂pos = −c·∂f/∂v' + e_x, ∂f/∂vel = ∂f/∂v',
        // ∂f/∂m = −dt·(pos · ∂f/∂v').
        let c = dt * b.mass;
        let pos = [b.pos.x, b.pos.y, b.pos.z];
        let vel = [b.vel.x, b.vel.y, b.vel.z];
        let v1: Vec<f64> = (0..3).map(|k| vel[k] - c * pos[k]).collect();
        let r = v1.iter().map(|t| t * t).sum::<f64>().sqrt();
        let gv: Vec<f64> = (0..3)
            .map(|k| v1[k] / r + if k == 0 { dt } else { 0.0 })
            .collect();
        let mut want: Vec<f64> = (0..3)
            .map(|k| -c * gv[k] + if k == 0 { 1.0 } else { 0.0 })
            .collect();
        want.extend(gv.iter().copied());
        want.push(-dt * (0..3).map(|k| pos[k] * gv[k]).sum::<f64>());
        close_all("indexed_update", &flat(gb), &want);
    }
    fd_bodies("indexed_update", |q| indexed_update(q, dt), &bodies, &g);
}

#[test]
fn settings_marked_data_read_out_of_a_parameter() {
    let p = Decay {
        k: 0.7,
        cfg: Settings {
            dt: 0.05,
            steps: 20,
        },
    };
    let x0 = 1.3;
    let r: f64 = 1.0 - p.k * p.cfg.dt;
    let n = p.cfg.steps as i32;
    // x = x₀·rⁿ: ∂/∂x₀ = rⁿ, ∂/∂k = −n·dt·x₀·rⁿ⁻¹.
    let (v, (g, gx)) = decayed_grad(&p, x0);
    assert_eq!(v, decayed(&p, x0));
    close("decayed x0", gx, r.powi(n), TOL);
    close(
        "decayed k",
        g.k,
        -(n as f64) * p.cfg.dt * x0 * r.powi(n - 1),
        TOL,
    );
    fd(
        "decayed k",
        |k| {
            decayed(
                &Decay {
                    k,
                    cfg: p.cfg.clone(),
                },
                x0,
            )
        },
        p.k,
        g.k,
    );
    let (v, (g, gx)) = Decay::run_grad(&p, x0);
    assert_eq!(v, p.run(x0));
    close("run x0", gx, r.powi(n), TOL);
    close(
        "run k",
        g.k,
        -(n as f64) * p.cfg.dt * x0 * r.powi(n - 1),
        TOL,
    );
    fd(
        "run k",
        |k| {
            Decay {
                k,
                cfg: p.cfg.clone(),
            }
            .run(x0)
        },
        p.k,
        g.k,
    );
}

#[test]
fn fields_two_levels_down() {
    let s = Tethered {
        body: sample(),
        anchor: v3(0.1, 0.2, -0.3),
        k: 1.7,
    };
    let dt = 0.1;
    let (v, (g, _)) = tether_energy_grad(&s, dt);
    assert_eq!(v, tether_energy(&s, dt));
    // d = pos + vel·dt − anchor: ∂/∂pos = k·d, ∂/∂vel = k·dt·d + m·vel/|vel|, ∂/∂m = |vel|,
    // ∂/∂anchor = −k·d, ∂/∂k = ½|d|².
    let (b, a) = (&s.body, &s.anchor);
    let d = [
        b.pos.x + b.vel.x * dt - a.x,
        b.pos.y + b.vel.y * dt - a.y,
        b.pos.z + b.vel.z * dt - a.z,
    ];
    let vel = [b.vel.x, b.vel.y, b.vel.z];
    let r = vel.iter().map(|t| t * t).sum::<f64>().sqrt();
    let mut want: Vec<f64> = d.iter().map(|t| s.k * t).collect();
    want.extend((0..3).map(|i| s.k * dt * d[i] + b.mass * vel[i] / r));
    want.push(r);
    close_all("tether body", &flat(&g.body), &want);
    let ga = [g.anchor.x, g.anchor.y, g.anchor.z];
    close_all(
        "tether anchor",
        &ga,
        &d.iter().map(|t| -s.k * t).collect::<Vec<_>>(),
    );
    close(
        "tether k",
        g.k,
        0.5 * d.iter().map(|t| t * t).sum::<f64>(),
        TOL,
    );
    let f = |q: &[f64]| {
        tether_energy(
            &Tethered {
                body: body(&q[..7]),
                anchor: v3(q[7], q[8], q[9]),
                k: q[10],
            },
            dt,
        )
    };
    let mut x = flat(&s.body);
    x.extend([a.x, a.y, a.z, s.k]);
    let mut gx = flat(&g.body);
    gx.extend(ga);
    gx.push(g.k);
    fd_vec("tether", f, &x, &gx);
}

#[test]
fn methods_chained_on_a_field() {
    let [a, b]: [Body; 2] = two_bodies().try_into().unwrap();
    let (v, (ga, gb)) = chained_grad(&a, &b);
    assert_eq!(v, chained(&a, &b));
    // u = (vel_a − vel_b)/|vel_a − vel_b|: ∂/∂pos_a = 2·vel_b, ∂/∂vel_a = m_a·u,
    // ∂/∂m_a = |vel_a − vel_b|, ∂/∂vel_b = 2·pos_a − m_a·u, ∂/∂pos_b = ∂/∂m_b = 0.
    let dv = [a.vel.x - b.vel.x, a.vel.y - b.vel.y, a.vel.z - b.vel.z];
    let r = dv.iter().map(|t| t * t).sum::<f64>().sqrt();
    let u: Vec<f64> = dv.iter().map(|t| t / r).collect();
    let mut want_a = vec![2.0 * b.vel.x, 2.0 * b.vel.y, 2.0 * b.vel.z];
    want_a.extend(u.iter().map(|t| a.mass * t));
    want_a.push(r);
    let pa = [a.pos.x, a.pos.y, a.pos.z];
    let mut want_b = vec![0.0; 3];
    want_b.extend((0..3).map(|i| 2.0 * pa[i] - a.mass * u[i]));
    want_b.push(0.0);
    close_all("chained a", &flat(&ga), &want_a);
    close_all("chained b", &flat(&gb), &want_b);
    fd_bodies("chained", |q| chained(&q[0], &q[1]), &[a, b], &[ga, gb]);
}

#[test]
fn floats_on_the_left_of_the_vectors() {
    let b = sample();
    let (dt, k) = (0.2, 1.3);
    let (v, (g, gk)) = scalar_left_grad(&b, dt, k);
    assert_eq!(v, scalar_left(&b, dt, k));
    // q = 3·pos + dt·vel: ∂/∂pos = 3q, ∂/∂vel = dt·q + k·dt·vel/|vel|, ∂/∂k = dt·|vel|.
    let pos = [b.pos.x, b.pos.y, b.pos.z];
    let vel = [b.vel.x, b.vel.y, b.vel.z];
    let q: Vec<f64> = (0..3).map(|i| 3.0 * pos[i] + dt * vel[i]).collect();
    let r = vel.iter().map(|t| t * t).sum::<f64>().sqrt();
    let mut want: Vec<f64> = q.iter().map(|t| 3.0 * t).collect();
    want.extend((0..3).map(|i| dt * q[i] + k * dt * vel[i] / r));
    want.push(0.0);
    close_all("scalar_left", &flat(&g), &want);
    close("scalar_left k", gk, dt * r, TOL);
    fd_vec(
        "scalar_left",
        |p| scalar_left(&body(p), dt, k),
        &flat(&b),
        &flat(&g),
    );
    // The operator itself is the one written.
    assert_eq!(2.0 * b.vel, b.vel * 2.0);
}

#[test]
fn integer_fields_declared_in_the_module() {
    let r = Delay {
        buf: vec![0.5, -1.0, 2.0, 0.25, 1.5],
        head: 1,
        step: 2,
        order: vec![4, 2, 0, 1, 3],
    };
    let xs = [0.3, -0.7, 1.1];
    let g = 1.7;
    let (v, (gg, gx)) = delayed_grad(&r, g, &xs);
    assert_eq!(v, delayed(&r, g, &xs));
    // The plain run, recording where each x landed and with which weight: the result is
    // linear in each written g·xᵢ (weight k + 1 where order[k] is its slot at the end).
    let n = r.buf.len();
    let (mut head, mut order) = (r.head, r.order.clone());
    let mut slot_of = vec![None; n];
    for (i, _) in xs.iter().enumerate() {
        slot_of[head] = Some(i);
        head = (head + r.step) % n;
        order.swap(0, n - 1);
    }
    let mut want_x = vec![0.0; xs.len()];
    let mut want_g = 0.0;
    for (k, &slot) in order.iter().enumerate() {
        if let Some(i) = slot_of[slot] {
            want_x[i] += (k + 1) as f64 * g;
            want_g += (k + 1) as f64 * xs[i];
        }
    }
    close_all("delayed xs", &gx, &want_x);
    close("delayed g", gg, want_g, TOL);
    fd_vec("delayed xs", |p| delayed(&r, g, p), &xs, &gx);
    fd("delayed g", |t| delayed(&r, t, &xs), g, gg);
}

#[test]
fn methods_on_what_a_method_of_another_struct_returned() {
    let q = Quat {
        w: 0.9,
        u: v3(0.1, -0.3, 0.2),
    };
    let (p, t) = (v3(1.0, 0.5, -0.4), v3(-0.2, 0.7, 0.3));
    let (v, (gq, gp, gt)) = aligned_grad(&q, p, t);
    assert_eq!(v, aligned(&q, p, t));
    let arr = |a: V3| [a.x, a.y, a.z];
    let cross = |a: [f64; 3], b: [f64; 3]| {
        [
            a[1] * b[2] - a[2] * b[1],
            a[2] * b[0] - a[0] * b[2],
            a[0] * b[1] - a[1] * b[0],
        ]
    };
    // R = I + 2w[u]× + 2[u]×², linear in its argument: R·a = a + 2w(u×a) + 2u×(u×a), and
    // Rᵀ·a = a − 2w(u×a) + 2u×(u×a) ([u]× is antisymmetric, [u]×² symmetric).
    let rot = |a: [f64; 3], sign: f64| {
        let ua = cross(arr(q.u), a);
        let uua = cross(arr(q.u), ua);
        [0, 1, 2].map(|i| a[i] + sign * 2.0 * q.w * ua[i] + 2.0 * uua[i])
    };
    // f = Rp·t + |c|², c = Rt × p: ∂/∂p = Rᵀt + 2·(c × Rt), ∂/∂t = Rp + 2·Rᵀ(p × c).
    let (rp, rt) = (rot(arr(p), 1.0), rot(arr(t), 1.0));
    let c = cross(rt, arr(p));
    let rtt = rot(arr(t), -1.0);
    let c_rt = cross(c, rt);
    let want_p: Vec<f64> = (0..3).map(|i| rtt[i] + 2.0 * c_rt[i]).collect();
    let back = rot(cross(arr(p), c), -1.0);
    let want_t: Vec<f64> = (0..3).map(|i| rp[i] + 2.0 * back[i]).collect();
    close_all("aligned p", &arr(gp), &want_p);
    close_all("aligned t", &arr(gt), &want_t);
    let f = |x: &[f64]| {
        aligned(
            &Quat {
                w: x[0],
                u: v3(x[1], x[2], x[3]),
            },
            v3(x[4], x[5], x[6]),
            v3(x[7], x[8], x[9]),
        )
    };
    let x = [q.w, q.u.x, q.u.y, q.u.z, p.x, p.y, p.z, t.x, t.y, t.z];
    let g = [
        gq.w, gq.u.x, gq.u.y, gq.u.z, gp.x, gp.y, gp.z, gt.x, gt.y, gt.z,
    ];
    fd_vec("aligned", f, &x, &g);
}

#[test]
fn results_of_the_module_functions_bound_without_a_type() {
    let b = sample();
    let (k, h) = (0.8, 0.1);
    let (v, (g, gk)) = midpoint_grad(&b, k, h);
    assert_eq!(v, midpoint(&b, k, h));
    // pos₁ = (1 − ½h²k)·pos + h·vel: ∂/∂pos = 2(1 − ½h²k)·pos₁, ∂/∂vel = 2h·pos₁ + h·vel/|vel|,
    // ∂/∂k = −h²·pos·pos₁.
    let c = 1.0 - 0.5 * h * h * k;
    let pos = [b.pos.x, b.pos.y, b.pos.z];
    let vel = [b.vel.x, b.vel.y, b.vel.z];
    let p1: Vec<f64> = (0..3).map(|i| c * pos[i] + h * vel[i]).collect();
    let r = vel.iter().map(|t| t * t).sum::<f64>().sqrt();
    let mut want: Vec<f64> = p1.iter().map(|t| 2.0 * c * t).collect();
    want.extend((0..3).map(|i| 2.0 * h * p1[i] + h * vel[i] / r));
    want.push(0.0);
    close_all("midpoint", &flat(&g), &want);
    close(
        "midpoint k",
        gk,
        -h * h * (0..3).map(|i| pos[i] * p1[i]).sum::<f64>(),
        TOL,
    );
    fd_vec(
        "midpoint",
        |p| midpoint(&body(p), k, h),
        &flat(&b),
        &flat(&g),
    );
}

/// A model of layers holding ndarray weights, in a module: the fields' declared ranks are seen,
/// so the elements of a matrix field two levels down are iterated as a matrix's.
#[autodiff::differentiate]
mod net {
    use autodiff::{Differentiable, differentiate};
    use ndarray::{Array1, Array2};

    #[derive(Clone, Debug, Differentiable)]
    pub struct Dense {
        pub w: Array2<f64>,
        pub b: Array1<f64>,
    }

    #[derive(Clone, Debug, Differentiable)]
    pub struct Mlp {
        pub l1: Dense,
        pub l2: Dense,
    }

    #[differentiate]
    impl Dense {
        pub fn forward(&self, x: &Array1<f64>) -> Array1<f64> {
            self.w.dot(x) + &self.b
        }
    }

    #[differentiate(wrt(self))]
    impl Mlp {
        /// `|W₂·tanh(W₁x + b₁) + b₂ − y|² + λ·Σ W₁²`.
        pub fn loss(&self, x: &Array1<f64>, y: &Array1<f64>, lambda: f64) -> f64 {
            let h = self.l1.forward(x).mapv(f64::tanh);
            let d = self.l2.forward(&h) - y;
            d.dot(&d) + lambda * self.l1.w.iter().map(|v| v * v).sum::<f64>()
        }

        /// `Σ W₁² + Σ b₁`.
        pub fn reg(&self) -> f64 {
            self.l1.w.iter().map(|v| v * v).sum::<f64>() + self.l1.b.iter().sum::<f64>()
        }
    }
}

#[test]
fn matrix_fields_two_levels_down() {
    let mk = |r: usize, c: usize, s: f64| net::Dense {
        w: Array2::from_shape_fn((r, c), |(i, j)| ((i * c + j) as f64 + s).sin() * 0.5),
        b: Array1::from_shape_fn(r, |i| (i as f64 + s).cos() * 0.1),
    };
    let m = net::Mlp {
        l1: mk(4, 3, 0.3),
        l2: mk(2, 4, 1.1),
    };
    // ∂/∂W₁ = 2W₁, ∂/∂b₁ = 1, nothing else.
    let (v, g) = net::Mlp::reg_grad(&m);
    assert_eq!(v, m.reg());
    let want_w: Vec<f64> = m.l1.w.iter().map(|t| 2.0 * t).collect();
    close_all("reg W1", g.l1.w.as_slice().unwrap(), &want_w);
    close_all("reg b1", g.l1.b.as_slice().unwrap(), &[1.0; 4]);
    assert!(g.l2.w.iter().chain(g.l2.b.iter()).all(|&t| t == 0.0));
    let x = Array1::from(vec![0.5, -0.3, 0.8]);
    let y = Array1::from(vec![0.1, -0.2]);
    let (v, g) = net::Mlp::loss_grad(&m, &x, &y, 0.01);
    assert_eq!(v, m.loss(&x, &y, 0.01));
    // Output layer: with d = W₂h + b₂ − y, ∂/∂b₂ = 2d, ∂/∂W₂ = 2d·hᵀ.
    let h = (m.l1.w.dot(&x) + &m.l1.b).mapv(f64::tanh);
    let d = m.l2.w.dot(&h) + &m.l2.b - &y;
    close_all("loss b2", g.l2.b.as_slice().unwrap(), &(&d * 2.0).to_vec());
    let outer: Vec<f64> = (0..2)
        .flat_map(|i| (0..4).map(move |j| (i, j)))
        .map(|(i, j)| 2.0 * d[i] * h[j])
        .collect();
    close_all("loss W2", g.l2.w.as_slice().unwrap(), &outer);
    let w1: Vec<f64> = m.l1.w.iter().copied().collect();
    let f = |p: &[f64]| {
        let mut m2 = m.clone();
        m2.l1.w = Array2::from_shape_vec((4, 3), p.to_vec()).unwrap();
        m2.loss(&x, &y, 0.01)
    };
    fd_vec("loss W1", f, &w1, g.l1.w.as_slice().unwrap());
}

#[test]
fn integer_fields_given_float_named_methods() {
    let q = Shifted {
        v: v3(0.5, -1.5, 0.25),
        shift: -3,
        n: 2,
        w: 1.2,
    };
    let (v, g) = Shifted::value_grad(&q);
    assert_eq!(v, q.value());
    let s = 3.0 - 1.0;
    let n2 = 4.0;
    close_all(
        "shifted v",
        &[g.v.x, g.v.y, g.v.z],
        &[3.0 * q.w * s + n2, 2.0 * q.w * s + n2, q.w * s + n2],
    );
    close(
        "shifted w",
        g.w,
        (3.0 * q.v.x + 2.0 * q.v.y + q.v.z) * s,
        TOL,
    );
    let f = |p: &[f64]| {
        Shifted {
            v: v3(p[0], p[1], p[2]),
            w: p[3],
            ..q.clone()
        }
        .value()
    };
    fd_vec(
        "shifted",
        f,
        &[q.v.x, q.v.y, q.v.z, q.w],
        &[g.v.x, g.v.y, g.v.z, g.w],
    );
}
