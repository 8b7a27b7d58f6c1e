//! Compartment models, pharmacokinetics and orbits, written as the scientists who fit them
//! write them: SIR and SEIR models stepped by Euler, Heun and Runge–Kutta over fixed-size
//! arrays, structs and operators, fitted by least squares and likelihoods; Kepler's equation
//! solved by Newton's method inside the function; bodies advanced by leapfrog.
//!
//! A state advanced by assigning a new array, `y = std::array::from_fn(|k| y[k] + h * d[k]);`
//! (the step of an integrator over `[f64; 4]`), was the error that `from_fn` is followed only
//! where it is a variable's value declared with its type. It is now the old array copied,
//! written element by element and assigned back, as for a field (`s.vel = ..`) and an element
//! (`hist[k] = ..`) of one.
//!
//! Bodies listed in a local array, `let mut bodies = [Body { .. }, Body { .. }, Body { .. }];`
//! (a three-body problem whose masses and velocities are the parameters), were rustc's "the
//! trait bound `Body: Default` is not satisfied" inside the generated code: the array was
//! built from defaults its elements were written into, and a `Differentiable` struct need not
//! derive `Default`. It is now built from copies of the first element, which need only `Clone`
//! (as such a struct has), and then written the same way; so are arrays of rows and of
//! structs with `Vec` fields. A repeat of a struct's value, `[Cell::new(s, i); 4]` (patches of
//! a metapopulation), was the same error and is now built from copies of the value.
//!
//! An array of bodies declared with its type, `let mut bodies: [Body; 3] = ..;`, was not known
//! to hold the struct: its elements' `&mut self` methods (`bodies[i].kick(a, dt)`, `b.drift(dt)`
//! of `for b in bodies.iter_mut()`) were the error that says to declare the struct where the
//! variable is made, which it was. The declared array type now names the struct, as an array
//! literal of its values does.
//!
//! Bodies made by `let bodies: [Body; 3] = std::array::from_fn(|i| Body { .. });` (or by a
//! function returning `[Body; 3]` that ends with `from_fn`) were the error that `from_fn` is
//! followed only as a value declared with its type, which it was: the array of zeros it is
//! written into exists only for floats. With a literal length it is now the array literal of
//! the closure called at each position.
//!
//! A body taken out of such an array, `let [mut a, b, _] = bodies;` or `let mut q =
//! bodies[1];` (also of a slice parameter `&[Body]`), was not known to be the struct: its
//! methods (`a.drift(dt)`, `q.kinetic()`) were the error that `drift` may change `a`. Each name
//! so bound is now the struct the array holds.
//!
//! A body kicked by a `&mut self` method given an array by value, `b.kick([ax, ay], dt)`, then
//! lent to another method (`b.kinetic()`), was rustc's "the gradient a call returned for `Body`
//! has the type `_`" inside the generated code: the body's new version was taken for an array,
//! as if the array argument were a buffer the method gave back. Only the arguments the source
//! lends `&mut` (here the receiver) are now taken for buffers.
//!
//! Each gradient is checked against its analytic form where there is one (stated beside the
//! function) and against central finite differences through `autodiff::check`, and tangents
//! and Hessian-vector products against differences of values and gradients.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

/// A linear decay `y' = −k·y` stepped by Euler with the state replaced by `from_fn`:
/// `y_n = y₀ (1 − h k)ⁿ`, so `∂k y_n[0] = −n h y₀ (1 − h k)ⁿ⁻¹`.
#[differentiate(hessian)]
fn decay_by_from_fn(k: f64) -> f64 {
    let h = 0.1;
    let mut y = [1.0, 2.0];
    for _ in 0..20 {
        let d = [-k * y[0], -k * y[1]];
        y = std::array::from_fn(|j| y[j] + h * d[j]);
    }
    y[0]
}

/// SEIR stepped by Euler over `[f64; 4]`, the state replaced by `from_fn` each step.
#[differentiate(hessian)]
fn seir_by_from_fn(beta: f64, sigma: f64) -> f64 {
    let mut y = [0.98, 0.01, 0.01, 0.0];
    let h = 0.1;
    for _ in 0..150 {
        let inf = beta * y[0] * y[2];
        let d = [
            -inf,
            inf - sigma * y[1],
            sigma * y[1] - 0.2 * y[2],
            0.2 * y[2],
        ];
        y = std::array::from_fn(|k| y[k] + h * d[k]);
    }
    y[3] + y[2] * y[1]
}

#[derive(Clone, Differentiable)]
struct Traj {
    pos: [f64; 2],
    vel: [f64; 2],
}

/// A field and an element of a history replaced by `from_fn` (`core::array::` and a typed
/// closure parameter too).
#[differentiate]
fn fields_by_from_fn(k: f64) -> f64 {
    let mut s = Traj {
        pos: [1.0, 0.0],
        vel: [0.0, 1.0],
    };
    let mut hist = vec![[0.0; 2]; 3];
    for step in 0..30 {
        let acc = [-k * s.pos[0], -k * s.pos[1]];
        s.vel = std::array::from_fn(|j| s.vel[j] + 0.05 * acc[j]);
        s.pos = core::array::from_fn(|j: usize| s.pos[j] + 0.05 * s.vel[j]);
        let slot = step % 3;
        hist[slot] = std::array::from_fn(|j| s.pos[j] * hist[slot][j] + s.vel[j]);
    }
    s.pos[0] + hist[1][0] + hist[2][1]
}

#[test]
fn a_state_replaced_by_from_fn() {
    let k = 0.7;
    let (y, d) = decay_by_from_fn_grad(k);
    close("decay", y, 0.93f64.powi(20), TOL);
    close("∂k decay", d, -20.0 * 0.1 * 0.93f64.powi(19), TOL);
    let (_, t) = decay_by_from_fn_jvp(k, 1.0);
    close("tangent", t, d, TOL);
    // ∂²k = n(n − 1) h² y₀ (1 − h k)ⁿ⁻²
    let (_, _, hv) = decay_by_from_fn_hvp(k, 1.0);
    close(
        "∂²k decay",
        hv,
        20.0 * 19.0 * 0.01 * 0.93f64.powi(18),
        1e-10,
    );

    let x = (0.6, 0.3);
    let (v, g) = seir_by_from_fn_grad(x.0, x.1);
    assert_eq!(v, seir_by_from_fn(x.0, x.1));
    gradcheck(|q: &(f64, f64)| seir_by_from_fn(q.0, q.1), &x, &g).assert_ok();
    let (_, t) = seir_by_from_fn_jvp(x.0, x.1, 1.0, -1.0);
    jvpcheck(
        |q: &(f64, f64)| seir_by_from_fn(q.0, q.1),
        &x,
        &(1.0, -1.0),
        &t,
    )
    .assert_ok();
    let (_, _, hv) = seir_by_from_fn_hvp(x.0, x.1, 1.0, -1.0);
    hvpcheck(
        |q: &(f64, f64)| seir_by_from_fn_grad(q.0, q.1).1,
        &x,
        &(1.0, -1.0),
        &hv,
    )
    .assert_ok();

    let (v, d) = fields_by_from_fn_grad(1.3);
    assert_eq!(v, fields_by_from_fn(1.3));
    fd("fields", fields_by_from_fn, 1.3, d);
}

#[derive(Clone, Copy, Differentiable)]
struct Body {
    x: [f64; 2],
    v: [f64; 2],
    m: f64,
}

/// Three bodies in a local array (no `Default` on `Body`), stepped by symplectic Euler; the
/// kinetic energy at the end and the second body's position.
#[differentiate(hessian)]
fn three_bodies(m1: f64, vy: f64) -> f64 {
    let mut bodies = [
        Body {
            x: [0.0, 0.0],
            v: [0.0, 0.0],
            m: m1,
        },
        Body {
            x: [1.0, 0.0],
            v: [0.0, vy],
            m: 0.01,
        },
        Body {
            x: [-1.2, 0.0],
            v: [0.0, -0.9],
            m: 0.02,
        },
    ];
    for _ in 0..40 {
        let mut acc = [[0.0; 2]; 3];
        for i in 0..3 {
            for j in 0..3 {
                if i != j {
                    let dx = bodies[j].x[0] - bodies[i].x[0];
                    let dy = bodies[j].x[1] - bodies[i].x[1];
                    let r2 = dx * dx + dy * dy + 1e-3;
                    let f = bodies[j].m / (r2 * r2.sqrt());
                    acc[i][0] += f * dx;
                    acc[i][1] += f * dy;
                }
            }
        }
        for (b, a) in bodies.iter_mut().zip(acc.iter()) {
            b.v[0] += 0.01 * a[0];
            b.v[1] += 0.01 * a[1];
            b.x[0] += 0.01 * b.v[0];
            b.x[1] += 0.01 * b.v[1];
        }
    }
    let kinetic: f64 = bodies
        .iter()
        .map(|b| 0.5 * b.m * (b.v[0] * b.v[0] + b.v[1] * b.v[1]))
        .sum();
    kinetic + bodies[1].x[0]
}

/// A body at rest and one moving, in an array: `f = ½·m₂·(a v)² + m₁·a`, so `∂a = m₂ a v² + m₁`
/// and `∂v = m₂ a² v` (with `m₁ = 0.5`, `m₂ = 2`).
#[differentiate]
fn two_at_rest(a: f64, v: f64) -> f64 {
    let bodies = [
        Body {
            x: [a, 0.0],
            v: [0.0, 0.0],
            m: 0.5,
        },
        Body {
            x: [0.0, 0.0],
            v: [a * v, 0.0],
            m: 2.0,
        },
    ];
    0.5 * bodies[1].m * bodies[1].v[0] * bodies[1].v[0] + bodies[0].m * bodies[0].x[0]
}

#[derive(Clone, Differentiable)]
struct Group {
    rates: Vec<f64>,
    w: f64,
}

/// Groups with `Vec` fields and rows of different lengths, in arrays: `f = b·(eᵃ + e²ᵃ) + ½·(eᵇ
/// + eᵃᵇ + e) + b²·b + a`.
#[differentiate(hessian)]
fn age_groups(a: f64, b: f64) -> f64 {
    let groups = [
        Group {
            rates: vec![a, 2.0 * a],
            w: b,
        },
        Group {
            rates: vec![b, a * b, 1.0],
            w: 0.5,
        },
    ];
    let rows = [vec![a, b], vec![b * b, 1.0, a]];
    let mut t = 0.0;
    for g in groups.iter() {
        t += g.w * g.rates.iter().map(|r| r.exp()).sum::<f64>();
    }
    t + rows[1][0] * rows[0][1] + rows[1][2]
}

#[test]
fn arrays_of_structs_need_no_default() {
    let (y, (da, dv)) = two_at_rest_grad(1.5, 0.8);
    close(
        "two at rest",
        y,
        0.5 * 2.0 * (1.2f64).powi(2) + 0.5 * 1.5,
        TOL,
    );
    close("∂a", da, 2.0 * 1.5 * 0.64 + 0.5, TOL);
    close("∂v", dv, 2.0 * 2.25 * 0.8, TOL);

    let (a, b) = (0.3, 0.7);
    let (y, (ga, gb)) = age_groups_grad(a, b);
    let e = f64::exp;
    close(
        "groups",
        y,
        b * (e(a) + e(2.0 * a)) + 0.5 * (e(b) + e(a * b) + e(1.0)) + b * b * b + a,
        TOL,
    );
    close(
        "∂a groups",
        ga,
        b * (e(a) + 2.0 * e(2.0 * a)) + 0.5 * b * e(a * b) + 1.0,
        TOL,
    );
    close(
        "∂b groups",
        gb,
        e(a) + e(2.0 * a) + 0.5 * (e(b) + a * e(a * b)) + 3.0 * b * b,
        TOL,
    );

    type F = fn(f64, f64) -> f64;
    type G = fn(f64, f64) -> (f64, (f64, f64));
    type J = fn(f64, f64, f64, f64) -> (f64, f64);
    type H = fn(f64, f64, f64, f64) -> (f64, (f64, f64), (f64, f64));
    let cases: [(&str, F, G, J, H); 2] = [
        (
            "three bodies",
            three_bodies,
            three_bodies_grad,
            three_bodies_jvp,
            three_bodies_hvp,
        ),
        (
            "age groups",
            age_groups,
            age_groups_grad,
            age_groups_jvp,
            age_groups_hvp,
        ),
    ];
    for (name, f, g, j, h) in cases {
        let x = (0.9, 1.05);
        let (v, grad) = g(x.0, x.1);
        assert_eq!(v, f(x.0, x.1), "{name}");
        fd2(name, f, x, grad);
        let (_, t) = j(x.0, x.1, 1.0, -0.5);
        jvpcheck(|q: &(f64, f64)| f(q.0, q.1), &x, &(1.0, -0.5), &t).assert_ok();
        let (_, _, hv) = h(x.0, x.1, 1.0, -0.5);
        hvpcheck(|q: &(f64, f64)| g(q.0, q.1).1, &x, &(1.0, -0.5), &hv).assert_ok();
    }
}

#[derive(Clone, Copy, Differentiable)]
struct Patch {
    s: f64,
    i: f64,
}

#[differentiate(hessian)]
impl Patch {
    fn new(s: f64, i: f64) -> Self {
        Patch { s, i }
    }
}

/// Four patches on a ring, seeded alike by a repeat of one patch (one then cleared), infected
/// from their own and their neighbours' infected.
#[differentiate(hessian)]
fn ring_of_patches(beta: f64, i0: f64) -> f64 {
    let mut cells = [Patch::new(1.0 - i0, i0); 4];
    cells[2].i = 0.0;
    for _ in 0..30 {
        let mut next = cells;
        for k in 0..4 {
            let nb = cells[(k + 1) % 4].i + cells[(k + 3) % 4].i;
            let inf = beta * cells[k].s * (cells[k].i + 0.1 * nb);
            next[k].s -= 0.1 * inf;
            next[k].i += 0.1 * (inf - 0.2 * cells[k].i);
        }
        cells = next;
    }
    cells.iter().map(|c| c.i).sum::<f64>()
}

/// One step of the ring: patches 0, 1 and 3 hold `i₀` and patch 2 none, so the neighbour
/// sums are `(2·i₀, i₀, 2·i₀, i₀)`, the new infections `β(1 − i₀)·(1.2, 1.1, 0.2, 1.1)·i₀`
/// and `Σ i = 3·i₀ + 0.1·(3.6·β(1 − i₀)·i₀ − 0.2·3·i₀) = 2.94·i₀ + 0.36·β(1 − i₀)·i₀`.
#[differentiate]
fn ring_one_step(beta: f64, i0: f64) -> f64 {
    let mut cells = [Patch::new(1.0 - i0, i0); 4];
    cells[2].i = 0.0;
    let mut next = cells;
    for k in 0..4 {
        let nb = cells[(k + 1) % 4].i + cells[(k + 3) % 4].i;
        let inf = beta * cells[k].s * (cells[k].i + 0.1 * nb);
        next[k].s -= 0.1 * inf;
        next[k].i += 0.1 * (inf - 0.2 * cells[k].i);
    }
    next.iter().map(|c| c.i).sum::<f64>()
}

#[test]
fn a_repeat_of_a_struct_needs_no_default() {
    // ∂β = 0.36·(1 − i₀)·i₀, ∂i₀ = 2.94 + 0.36·β·(1 − 2·i₀)
    let (beta, i0) = (0.8, 0.02);
    let (y, (db, di)) = ring_one_step_grad(beta, i0);
    close(
        "one step",
        y,
        2.94 * i0 + 0.36 * beta * (1.0 - i0) * i0,
        TOL,
    );
    close("∂β", db, 0.36 * (1.0 - i0) * i0, TOL);
    close("∂i₀", di, 2.94 + 0.36 * beta * (1.0 - 2.0 * i0), TOL);

    let x = (beta, i0);
    let (v, g) = ring_of_patches_grad(x.0, x.1);
    assert_eq!(v, ring_of_patches(x.0, x.1));
    fd2("ring", ring_of_patches, x, g);
    let (_, t) = ring_of_patches_jvp(x.0, x.1, 1.0, 2.0);
    jvpcheck(
        |q: &(f64, f64)| ring_of_patches(q.0, q.1),
        &x,
        &(1.0, 2.0),
        &t,
    )
    .assert_ok();
    let (_, _, hv) = ring_of_patches_hvp(x.0, x.1, 1.0, 2.0);
    hvpcheck(
        |q: &(f64, f64)| ring_of_patches_grad(q.0, q.1).1,
        &x,
        &(1.0, 2.0),
        &hv,
    )
    .assert_ok();
}

#[differentiate(hessian)]
impl Body {
    fn drift(&mut self, dt: f64) {
        self.x[0] += dt * self.v[0];
        self.x[1] += dt * self.v[1];
    }

    fn kick(&mut self, a: [f64; 2], dt: f64) {
        self.v[0] += dt * a[0];
        self.v[1] += dt * a[1];
    }

    fn kinetic(&self) -> f64 {
        0.5 * self.m * (self.v[0] * self.v[0] + self.v[1] * self.v[1])
    }
}

/// The pull on body `i` of the others, softened.
#[differentiate]
fn pull_on(bodies: &[Body; 3], i: usize) -> [f64; 2] {
    let mut a = [0.0, 0.0];
    for j in 0..3 {
        if j != i {
            let dx = bodies[j].x[0] - bodies[i].x[0];
            let dy = bodies[j].x[1] - bodies[i].x[1];
            let r2 = dx * dx + dy * dy + 1e-3;
            let f = bodies[j].m / (r2 * r2.sqrt());
            a[0] += f * dx;
            a[1] += f * dy;
        }
    }
    a
}

/// Three bodies in an array declared with its type, kicked and drifted by their own methods.
#[differentiate]
fn declared_array_of_bodies(m1: f64, vy: f64) -> f64 {
    let mut bodies: [Body; 3] = [
        Body {
            x: [0.0, 0.0],
            v: [0.0, 0.0],
            m: m1,
        },
        Body {
            x: [1.0, 0.0],
            v: [0.0, vy],
            m: 0.01,
        },
        Body {
            x: [-1.2, 0.0],
            v: [0.0, -0.9],
            m: 0.02,
        },
    ];
    for _ in 0..30 {
        for i in 0..3 {
            let a = pull_on(&bodies, i);
            bodies[i].kick(a, 0.01);
        }
        for b in bodies.iter_mut() {
            b.drift(0.01);
        }
    }
    bodies.iter().map(|b| b.kinetic()).sum::<f64>() + bodies[2].x[1]
}

/// One free body moved by its methods in a declared array: after `kick([a, 0], 1)` and
/// `drift(2)`, `x₀ = 2·(v + a)` and the kinetic energy `½·m·(v + a)²`, so `f = x₀ + E` has
/// `∂v = ∂a = 2 + m·(v + a)` (with `m = 3`).
#[differentiate]
fn one_free_body(v: f64, a: f64) -> f64 {
    let mut bodies: [Body; 2] = [
        Body {
            x: [0.0, 0.0],
            v: [v, 0.0],
            m: 3.0,
        },
        Body {
            x: [5.0, 0.0],
            v: [0.0, 0.0],
            m: 1.0,
        },
    ];
    bodies[0].kick([a, 0.0], 1.0);
    for b in bodies.iter_mut() {
        b.drift(2.0);
    }
    bodies[0].x[0] + bodies[0].kinetic()
}

#[test]
fn an_array_of_bodies_declared_with_its_type() {
    let (y, (dv, da)) = one_free_body_grad(0.4, 0.1);
    close("free body", y, 2.0 * 0.5 + 1.5 * 0.25, TOL);
    close("∂v", dv, 2.0 + 3.0 * 0.5, TOL);
    close("∂a", da, 2.0 + 3.0 * 0.5, TOL);

    let x = (0.9, 1.05);
    let (v, g) = declared_array_of_bodies_grad(x.0, x.1);
    assert_eq!(v, declared_array_of_bodies(x.0, x.1));
    fd2("declared array", declared_array_of_bodies, x, g);
    let (_, t) = declared_array_of_bodies_jvp(x.0, x.1, 1.0, 1.0);
    jvpcheck(
        |q: &(f64, f64)| declared_array_of_bodies(q.0, q.1),
        &x,
        &(1.0, 1.0),
        &t,
    )
    .assert_ok();
}

/// Bodies on a line, the `i`-th at `x = i` moving at `i·v` with mass `m + i`.
#[differentiate]
fn bodies_on_a_line(m: f64, v: f64) -> [Body; 3] {
    std::array::from_fn(|i| Body {
        x: [i as f64, 0.0],
        v: [0.0, v * i as f64],
        m: m + i as f64,
    })
}

/// The kinetic energy of bodies made by `from_fn`, one drifted and one given a velocity from
/// another's position: `E = ½(m+1)v² + ½(m+2)((2v)² + (v·0.5·m)²)`, with the drifted body's
/// `y = 0.5·v`.
#[differentiate]
fn energy_of_made_bodies(m: f64, v: f64) -> f64 {
    let mut bodies: [Body; 3] = std::array::from_fn(|i| Body {
        x: [i as f64, 0.0],
        v: [0.0, v * i as f64],
        m: m + i as f64,
    });
    bodies[1].drift(0.5);
    bodies[2].v[0] = bodies[1].x[1] * m;
    let made = bodies_on_a_line(m, v);
    bodies.iter().map(|b| b.kinetic()).sum::<f64>() + made[2].m * made[1].v[1]
}

#[test]
fn bodies_made_by_from_fn() {
    let (m, v) = (0.9, 1.05);
    let e = |m: f64, v: f64| {
        0.5 * (m + 1.0) * v * v
            + 0.5 * (m + 2.0) * (4.0 * v * v + (0.5 * v * m).powi(2))
            + (m + 2.0) * v
    };
    let (y, g) = energy_of_made_bodies_grad(m, v);
    close("energy", y, e(m, v), TOL);
    // ∂m = ½v² + ½(4v² + v²m²/4) + (m + 2)·v²m/4 + v, ∂v = (m + 1)v + (m + 2)(4v + v m²/4) + m + 2
    let dm =
        0.5 * v * v + 0.5 * (4.0 * v * v + v * v * m * m / 4.0) + (m + 2.0) * v * v * m / 4.0 + v;
    let dv = (m + 1.0) * v + (m + 2.0) * (4.0 * v + v * m * m / 4.0) + m + 2.0;
    close2("energy", g, (dm, dv));
    fd2("energy", energy_of_made_bodies, (m, v), g);
    let (_, t) = bodies_on_a_line_jvp(m, v, 1.0, 2.0);
    for (i, b) in t.iter().enumerate() {
        close("∂m", b.m, 1.0, TOL);
        close("∂v", b.v[1], 2.0 * i as f64, TOL);
    }
}

/// Bodies taken out of arrays and a slice: `a` (mass `m`, velocity `(0, 0)`) kicked to `(v, 0)`
/// and drifted for 2, `q` a copy of the slice's second body (mass `m + 1`, velocity `(0, v)`)
/// drifted for 1. `f = ½m v² + ½(m + 1)v² + 2v + v` (`a.x[0] = 2v`, `q.x[1] = v`), so `∂m = v²`
/// and `∂v = (2m + 1)v + 3`.
#[differentiate]
fn bodies_taken_out(m: f64, v: f64, line: &[Body]) -> f64 {
    let bodies: [Body; 3] = bodies_on_a_line(m, v);
    let [mut a, _, _] = bodies;
    a.kick([v, 0.0], 1.0);
    a.drift(2.0);
    let mut q = line[1];
    q.drift(1.0);
    a.kinetic() + q.kinetic() + a.x[0] + q.x[1]
}

#[test]
fn bodies_taken_out_of_arrays() {
    let (m, v) = (0.9, 1.05);
    let line = bodies_on_a_line(m, v);
    let (y, (dm, dv, dline)) = bodies_taken_out_grad(m, v, &line);
    close(
        "taken out",
        y,
        0.5 * m * v * v + 0.5 * (m + 1.0) * v * v + 3.0 * v,
        TOL,
    );
    // through the slice's second body only: ∂m₁ = ½v², ∂v₁ = (m + 1)v + 1
    close("∂m", dm, 0.5 * v * v, TOL);
    close("∂v", dv, m * v + 2.0, TOL);
    close("∂line[1].m", dline[1].m, 0.5 * v * v, TOL);
    close("∂line[1].v", dline[1].v[1], (m + 1.0) * v + 1.0, TOL);
    fd2(
        "taken out",
        |m, v| bodies_taken_out(m, v, &line),
        (m, v),
        (dm, dv),
    );
}

/// A body kicked by an array literal and one kicked by an array variable, then read through
/// `kinetic(&self)`: with `m`, velocity `(0, v)` kicked by `(v, 0)` for 1, `E = ½m·2v² = m v²`
/// (`∂m = v²`, `∂v = 2 m v`); the second, mass 2 at rest kicked by `a = (m, v)` for 0.5, `E =
/// ¼(m² + v²)` (`∂m = m/2`, `∂v = v/2`).
#[differentiate(hessian)]
fn kicked_by_arrays(m: f64, v: f64) -> f64 {
    let mut b = Body {
        x: [0.0, 0.0],
        v: [0.0, v],
        m,
    };
    b.kick([v, 0.0], 1.0);
    let mut c = Body {
        x: [0.0, 0.0],
        v: [0.0, 0.0],
        m: 2.0,
    };
    let a = [m, v];
    c.kick(a, 0.5);
    b.kinetic() + c.kinetic()
}

#[test]
fn a_body_kicked_by_an_array() {
    let (m, v) = (0.9, 1.05);
    let (y, g) = kicked_by_arrays_grad(m, v);
    close("kicked", y, m * v * v + 0.25 * (m * m + v * v), TOL);
    close2("kicked", g, (v * v + 0.5 * m, 2.0 * m * v + 0.5 * v));
    let (_, t) = kicked_by_arrays_jvp(m, v, 1.0, -1.0);
    close("tangent", t, g.0 - g.1, TOL);
    // H = [[1/2, 2v], [2v, 2m + 1/2]]
    let (_, _, hv) = kicked_by_arrays_hvp(m, v, 1.0, -1.0);
    close2("H·(1, −1)", hv, (0.5 - 2.0 * v, 2.0 * v - 2.0 * m - 0.5));
}
