//! Containers of parameter structs written through a `&mut` parameter (`bodies: &mut [Body]`,
//! `&mut Vec<Body>`, `&mut [Body; 3]`), a `Vec<Body>` taken by value, a local copy
//! (`bodies0.to_vec()`) and a field of `self` (`self.bodies[i]`), changed by element writes,
//! by writes through the items of `iter_mut()` and by `&mut self` methods of the element
//! (`b.step(dt)`, `bodies[i].step(dt)`, `self.bodies[i].step(dt)`); the gradient with respect
//! to the initial contents of a `&mut` container reaches the caller as for `&mut [f64]`. Then
//! slices and `Vec`s of tuples (`&[(f64, f64)]`) read by pattern, by `.0` and in chains.
//!
//! Each gradient is checked against its analytic form where it is short (stated beside the
//! function) and against central finite differences through `autodiff::check`; each value
//! against the plain function's, and the caller's container against what the plain function
//! leaves in it.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::type_complexity,
    clippy::assign_op_pattern
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

#[derive(Differentiable, Clone, Debug, PartialEq)]
struct Body {
    x: f64,
    v: f64,
}

impl Body {
    /// One drift: x ← x + dt·v.
    #[differentiate]
    fn step(&mut self, dt: f64) {
        self.x += dt * self.v;
    }

    /// One kick of a spring of stiffness k with a cubic term: v ← v − dt·(k·x + x³).
    #[differentiate]
    fn kick(&mut self, k: f64, dt: f64) {
        self.v -= dt * (k * self.x + self.x * self.x * self.x);
    }
}

fn bodies() -> Vec<Body> {
    vec![
        Body { x: 0.5, v: 0.2 },
        Body { x: -0.3, v: 0.7 },
        Body { x: 1.1, v: -0.4 },
    ]
}

/// The gradient of `f` at `(bodies, s)` against central finite differences, `f` given the
/// bodies by value (a copy of the caller's, which the `&mut` functions change).
#[track_caller]
fn fd_bodies(
    what: &str,
    f: impl Fn(Vec<Body>, f64) -> f64,
    b: &[Body],
    s: f64,
    g: &(Vec<Body>, f64),
) {
    let r = gradcheck(
        |p: &(Vec<Body>, f64)| f(p.0.clone(), p.1),
        &(b.to_vec(), s),
        g,
    );
    assert!(r.passed(), "{what}: {r}");
}

type MutBodies = fn(&mut Vec<Body>, f64) -> f64;
type MutBodiesGrad = fn(&mut Vec<Body>, f64) -> (f64, (Vec<Body>, f64));

/// `f_grad` against `f`: the value, the caller's bodies after, and central differences.
#[track_caller]
fn check_mut(
    what: &str,
    f: impl Fn(&mut Vec<Body>, f64) -> f64,
    g: impl Fn(&mut Vec<Body>, f64) -> (f64, (Vec<Body>, f64)),
    s: f64,
) -> (Vec<Body>, f64) {
    let b0 = bodies();
    let mut b = b0.clone();
    let (v, grad) = g(&mut b, s);
    let mut after = b0.clone();
    close(&format!("{what}: value"), v, f(&mut after, s), TOL);
    assert_eq!(b, after, "{what}: the caller's bodies");
    fd_bodies(what, |mut b, s| f(&mut b, s), &b0, s, &grad);
    grad
}

// ---------------------------------------------------------------------------------------------
// One drift through a `&mut` slice, `Vec` and array of structs.
// ---------------------------------------------------------------------------------------------

/// x′ᵢ = xᵢ + dt·vᵢ written through the items of `iter_mut()`, then Σ x′ᵢ²:
/// ∂xᵢ = 2x′ᵢ, ∂vᵢ = 2x′ᵢ·dt, ∂dt = Σ 2x′ᵢ·vᵢ.
#[differentiate]
fn drift_slice(bodies: &mut [Body], dt: f64) -> f64 {
    for b in bodies.iter_mut() {
        b.x += dt * b.v;
    }
    bodies.iter().map(|b| b.x * b.x).sum()
}

/// The same drift by indices into a `&mut Vec`.
#[differentiate]
fn drift_vec(bodies: &mut Vec<Body>, dt: f64) -> f64 {
    for i in 0..bodies.len() {
        bodies[i].x += dt * bodies[i].v;
    }
    bodies.iter().map(|b| b.x * b.x).sum()
}

/// The same drift by the element's `&mut self` method, on the items of a `&mut` array.
#[differentiate]
fn drift_array(bodies: &mut [Body; 3], dt: f64) -> f64 {
    for b in bodies.iter_mut() {
        b.step(dt);
    }
    bodies.iter().map(|b| b.x * b.x).sum()
}

/// The same drift by the method called on the element, `bodies[i].step(dt)`.
#[differentiate]
fn drift_method_at(bodies: &mut Vec<Body>, dt: f64) -> f64 {
    for i in 0..bodies.len() {
        bodies[i].step(dt);
    }
    bodies.iter().map(|b| b.x * b.x).sum()
}

/// The analytic gradient of the drifts above.
fn drift_gradient(b: &[Body], dt: f64) -> (Vec<Body>, f64) {
    let mut gdt = 0.0;
    let g = b
        .iter()
        .map(|b| {
            let x = b.x + dt * b.v;
            gdt += 2.0 * x * b.v;
            Body {
                x: 2.0 * x,
                v: 2.0 * x * dt,
            }
        })
        .collect();
    (g, gdt)
}

#[track_caller]
fn close_bodies(what: &str, got: &[Body], want: &[Body]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        close(&format!("{what}[{k}].x"), g.x, w.x, TOL);
        close(&format!("{what}[{k}].v"), g.v, w.v, TOL);
    }
}

#[test]
fn one_drift_through_a_mut_container_of_structs() {
    let b0 = bodies();
    let dt = 0.3;
    let (want_g, want_dt) = drift_gradient(&b0, dt);
    let forms: [(&str, MutBodies, MutBodiesGrad); 2] = [
        ("vec", drift_vec, drift_vec_grad),
        ("method at", drift_method_at, drift_method_at_grad),
    ];
    let slice: (&str, MutBodies, MutBodiesGrad) = (
        "slice",
        |b, s| drift_slice(b, s),
        |b, s| drift_slice_grad(b, s),
    );
    for (what, f, g) in forms.into_iter().chain([slice]) {
        let (g, gdt) = check_mut(what, f, g, dt);
        close_bodies(&format!("{what}: ∂bodies"), &g, &want_g);
        close(&format!("{what}: ∂dt"), gdt, want_dt, TOL);
    }

    let mut a: [Body; 3] = b0.clone().try_into().unwrap();
    let (v, (g, gdt)) = drift_array_grad(&mut a, dt);
    let mut after = b0.clone();
    close("array: value", v, drift_slice(&mut after, dt), TOL);
    assert_eq!(a.to_vec(), after, "array: the caller's bodies");
    close_bodies("array: ∂bodies", &g, &want_g);
    close("array: ∂dt", gdt, want_dt, TOL);
}

// ---------------------------------------------------------------------------------------------
// Time steps: symplectic Euler of nonlinear springs, in the forms a simulation takes.
// ---------------------------------------------------------------------------------------------

/// `steps` kick-drift steps through a `&mut [Body]`, the kick written through the items of
/// `iter_mut()`, the drift by indices; the energy Σ (v² + k·x²)/2 + x⁴/4 after. fd.
#[differentiate]
fn simulate_slice(bodies: &mut [Body], k: f64) -> f64 {
    let dt = 0.05;
    for _ in 0..20 {
        for b in bodies.iter_mut() {
            b.v -= dt * (k * b.x + b.x * b.x * b.x);
        }
        for i in 0..bodies.len() {
            bodies[i].x += dt * bodies[i].v;
        }
    }
    bodies
        .iter()
        .map(|b| 0.5 * (b.v * b.v + k * b.x * b.x) + 0.25 * b.x * b.x * b.x * b.x)
        .sum()
}

/// The same steps through a `&mut Vec<Body>` by the element's methods.
#[differentiate]
fn simulate_methods(bodies: &mut Vec<Body>, k: f64) -> f64 {
    let dt = 0.05;
    for _ in 0..20 {
        for b in bodies.iter_mut() {
            b.kick(k, dt);
        }
        for i in 0..bodies.len() {
            bodies[i].step(dt);
        }
    }
    bodies
        .iter()
        .map(|b| 0.5 * (b.v * b.v + k * b.x * b.x) + 0.25 * b.x * b.x * b.x * b.x)
        .sum()
}

/// The same steps on a `Vec<Body>` taken by value.
#[differentiate]
fn simulate_owned(mut bodies: Vec<Body>, k: f64) -> f64 {
    let dt = 0.05;
    for _ in 0..20 {
        for i in 0..bodies.len() {
            bodies[i].kick(k, dt);
        }
        for b in bodies.iter_mut() {
            b.x += dt * b.v;
        }
    }
    bodies
        .iter()
        .map(|b| 0.5 * (b.v * b.v + k * b.x * b.x) + 0.25 * b.x * b.x * b.x * b.x)
        .sum()
}

/// The same steps on a local copy, `bodies0.to_vec()`.
#[differentiate]
fn simulate_copy(bodies0: &[Body], k: f64) -> f64 {
    let dt = 0.05;
    let mut bodies = bodies0.to_vec();
    for _ in 0..20 {
        for b in bodies.iter_mut() {
            b.kick(k, dt);
            b.step(dt);
        }
    }
    bodies
        .iter()
        .map(|b| 0.5 * (b.v * b.v + k * b.x * b.x) + 0.25 * b.x * b.x * b.x * b.x)
        .sum()
}

#[test]
fn time_steps_over_a_container_of_structs() {
    let b0 = bodies();
    let k = 1.7;
    let mut after = b0.clone();
    let want = simulate_slice(&mut after, k);

    let mut b = b0.clone();
    let (v, g) = simulate_slice_grad(&mut b, k);
    close("slice: value", v, want, TOL);
    assert_eq!(b, after, "slice: the caller's bodies");
    fd_bodies("slice", |mut b, k| simulate_slice(&mut b, k), &b0, k, &g);

    let mut b = b0.clone();
    let (v, gm) = simulate_methods_grad(&mut b, k);
    close("methods: value", v, want, TOL);
    assert_eq!(b, after, "methods: the caller's bodies");
    close_bodies("methods: ∂bodies", &gm.0, &g.0);
    close("methods: ∂k", gm.1, g.1, TOL);

    let (v, go) = simulate_owned_grad(b0.clone(), k);
    close("owned: value", v, want, TOL);
    close_bodies("owned: ∂bodies", &go.0, &g.0);
    close("owned: ∂k", go.1, g.1, TOL);

    let (v, gc) = simulate_copy_grad(&b0, k);
    close("copy: value", v, simulate_copy(&b0, k), TOL);
    fd_bodies("copy", |b, k| simulate_copy(&b, k), &b0, k, &gc);
}

// ---------------------------------------------------------------------------------------------
// Initial contents overwritten, read before, or only partly written.
// ---------------------------------------------------------------------------------------------

/// xᵢ ← 2vᵢ overwrites the positions, which then do not matter: Σ x′ᵢ·vᵢ = Σ 2vᵢ², so
/// ∂xᵢ = 0, ∂vᵢ = 4vᵢ; the first body is read before it is written (p = x₀·w), ∂x₀ = w,
/// ∂w = x₀.
#[differentiate]
fn overwritten(bodies: &mut [Body], w: f64) -> f64 {
    let p = bodies[0].x * w;
    for b in bodies.iter_mut() {
        b.x = 2.0 * b.v;
    }
    p + bodies.iter().map(|b| b.x * b.v).sum::<f64>()
}

/// Only the last body is changed, v ← v·s; Σ vᵢ² after: ∂v_last = 2v_last·s², ∂vᵢ = 2vᵢ
/// for the others, ∂xᵢ = 0, ∂s = 2v_last²·s.
#[differentiate]
fn last_scaled(bodies: &mut Vec<Body>, s: f64) -> f64 {
    let n = bodies.len();
    bodies[n - 1].v *= s;
    bodies.iter().map(|b| b.v * b.v).sum()
}

#[test]
fn initial_contents_that_are_overwritten_or_kept() {
    let b0 = bodies();
    let w = 0.9;
    let (g, gw) = check_mut(
        "overwritten",
        |b, w| overwritten(b, w),
        |b, w| overwritten_grad(b, w),
        w,
    );
    let want: Vec<Body> = b0
        .iter()
        .enumerate()
        .map(|(i, b)| Body {
            x: if i == 0 { w } else { 0.0 },
            v: 4.0 * b.v,
        })
        .collect();
    close_bodies("overwritten: ∂bodies", &g, &want);
    close("overwritten: ∂w", gw, b0[0].x, TOL);

    let s = 1.3;
    let (g, gs) = check_mut("last scaled", last_scaled, last_scaled_grad, s);
    let want: Vec<Body> = b0
        .iter()
        .enumerate()
        .map(|(i, b)| Body {
            x: 0.0,
            v: if i == 2 { 2.0 * b.v * s * s } else { 2.0 * b.v },
        })
        .collect();
    close_bodies("last scaled: ∂bodies", &g, &want);
    close("last scaled: ∂s", gs, 2.0 * b0[2].v * b0[2].v * s, TOL);
}

/// A struct with a `Vec` field, whose zero a length alone does not make.
#[derive(Differentiable, Clone, Debug, PartialEq)]
struct Chain {
    p: Vec<f64>,
    m: f64,
}

/// pⱼ ← pⱼ·w·m of every chain of a `&mut` slice (chains of different lengths), then Σ pⱼ²:
/// ∂pⱼ = 2pⱼ(wm)², ∂m = Σⱼ 2pⱼ²w²m, ∂w = Σ 2pⱼ²wm².
#[differentiate]
fn scaled_chains(cs: &mut [Chain], w: f64) -> f64 {
    for c in cs.iter_mut() {
        for j in 0..c.p.len() {
            c.p[j] *= w * c.m;
        }
    }
    cs.iter()
        .map(|c| c.p.iter().map(|v| v * v).sum::<f64>())
        .sum()
}

#[test]
fn a_mut_slice_of_structs_with_vec_fields() {
    let c0 = vec![
        Chain {
            p: vec![0.5, 0.2],
            m: 1.5,
        },
        Chain {
            p: vec![-0.3, 0.7, 0.1],
            m: 0.5,
        },
    ];
    let w = 1.3;
    let mut c = c0.clone();
    let (v, (g, gw)) = scaled_chains_grad(&mut c, w);
    let mut after = c0.clone();
    close("value", v, scaled_chains(&mut after, w), TOL);
    assert_eq!(c, after, "the caller's chains");
    let mut want_w = 0.0;
    for (c, gc) in c0.iter().zip(&g) {
        let s: f64 = c.p.iter().map(|p| p * p).sum();
        let want: Vec<f64> = c.p.iter().map(|p| 2.0 * p * (w * c.m).powi(2)).collect();
        close_all("∂p", &gc.p, &want);
        close("∂m", gc.m, 2.0 * s * w * w * c.m, TOL);
        want_w += 2.0 * s * w * c.m * c.m;
    }
    close("∂w", gw, want_w, TOL);
    let r = gradcheck(
        |q: &(Vec<Chain>, f64)| scaled_chains(&mut q.0.clone(), q.1),
        &(c0.clone(), w),
        &(g, gw),
    );
    assert!(r.passed(), "chains: {r}");
}

// ---------------------------------------------------------------------------------------------
// A struct holding a `Vec<Body>`, changed by its own `&mut self` methods.
// ---------------------------------------------------------------------------------------------

#[derive(Differentiable, Clone, Debug)]
struct World {
    bodies: Vec<Body>,
    k: f64,
}

impl World {
    /// vᵢ ← vᵢ − dt·k·xᵢ by a write into an element of the field.
    #[differentiate]
    fn kick_all(&mut self, dt: f64) {
        for i in 0..self.bodies.len() {
            self.bodies[i].v -= dt * self.k * self.bodies[i].x;
        }
    }

    /// xᵢ ← xᵢ + dt·vᵢ by the element's method on an element of the field.
    #[differentiate]
    fn drift_all(&mut self, dt: f64) {
        for i in 0..self.bodies.len() {
            self.bodies[i].step(dt);
        }
    }
}

/// Ten kick-drift steps of a copy of the world, then Σ xᵢ²: fd; and one step, whose gradient
/// is short: x′ᵢ = xᵢ(1 − dt²k) + dt·vᵢ, ∂xᵢ = 2x′ᵢ(1 − dt²k), ∂vᵢ = 2x′ᵢ·dt,
/// ∂k = −Σ 2x′ᵢ·dt²·xᵢ.
#[differentiate]
fn world_after(world: &World, dt: f64, steps: usize) -> f64 {
    let mut w = world.clone();
    for _ in 0..steps {
        w.kick_all(dt);
        w.drift_all(dt);
    }
    w.bodies.iter().map(|b| b.x * b.x).sum()
}

#[test]
fn methods_of_a_struct_holding_a_vec_of_structs() {
    let world = World {
        bodies: bodies(),
        k: 2.5,
    };
    let dt = 0.1;
    let (v, (g, _)) = world_after_grad(&world, dt, 1);
    close("value", v, world_after(&world, dt, 1), TOL);
    let mut gk = 0.0;
    for (b, gb) in world.bodies.iter().zip(&g.bodies) {
        let x = b.x * (1.0 - dt * dt * world.k) + dt * b.v;
        close("∂x", gb.x, 2.0 * x * (1.0 - dt * dt * world.k), TOL);
        close("∂v", gb.v, 2.0 * x * dt, TOL);
        gk -= 2.0 * x * dt * dt * b.x;
    }
    close("∂k", g.k, gk, TOL);

    let (v, (g, gdt)) = world_after_grad(&world, dt, 10);
    close("value", v, world_after(&world, dt, 10), TOL);
    let r = gradcheck(
        |p: &(World, f64)| world_after(&p.0, p.1, 10),
        &(world.clone(), dt),
        &(g, gdt),
    );
    assert!(r.passed(), "ten steps: {r}");
}

// ---------------------------------------------------------------------------------------------
// Forward mode of a `&mut` container of structs.
// ---------------------------------------------------------------------------------------------

#[test]
fn forward_mode_of_a_mut_container_of_structs() {
    let b0 = bodies();
    forward("simulate_slice").check(
        &(b0, 1.7),
        |p| simulate_slice(&mut p.0.clone(), p.1),
        |p, d| simulate_slice_jvp(&mut p.0.clone(), p.1, &d.0, d.1),
        |p, w| {
            let (y, pb) = simulate_slice_vjp(&mut p.0.clone(), p.1);
            (y, pb(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// More forms of writes: in a branch, in a `while` loop, with reads between the steps, through
// `zip`/`enumerate`/`for_each`/`&mut *v`, whole elements replaced, and the length changed.
// ---------------------------------------------------------------------------------------------

/// A drift xᵢ ← xᵢ + dt·vᵢ·xᵢ in one arm, v₀ ← v₀·dt in the other; Σ xᵢvᵢ after. fd.
#[differentiate]
fn in_a_branch(bodies: &mut [Body], dt: f64, flag: bool) -> f64 {
    if flag {
        for b in bodies.iter_mut() {
            b.x += dt * b.v * b.x;
        }
    } else {
        bodies[0].v *= dt;
    }
    bodies.iter().map(|b| b.x * b.v).sum()
}

/// Four drift-kick steps in a `while` loop, the drift by the element's method. fd.
#[differentiate]
fn in_a_while_loop(bodies: &mut Vec<Body>, dt: f64) -> f64 {
    let mut t = 0.0;
    while t < 1.0 {
        for b in bodies.iter_mut() {
            b.step(dt);
            b.v -= dt * b.x;
        }
        t += 0.25;
    }
    bodies.iter().map(|b| b.x * b.v).sum()
}

/// The kinetic energy summed between the kick and the drift of every step. fd.
#[differentiate]
fn read_between_steps(bodies: &mut [Body], dt: f64) -> f64 {
    let mut e = 0.0;
    for _ in 0..4 {
        for i in 0..bodies.len() {
            bodies[i].v -= dt * bodies[i].x.sin();
        }
        e += bodies.iter().map(|b| b.v * b.v).sum::<f64>();
        for b in bodies.iter_mut() {
            b.x += dt * b.v;
        }
    }
    e
}

/// vᵢ ← vᵢ + dt·fᵢ·xᵢ over `zip`, then xᵢ ← xᵢ + (i + 1)·dt·vᵢ over `enumerate`. fd.
#[differentiate]
fn zipped_and_enumerated(bodies: &mut [Body], f: &[f64], dt: f64) -> f64 {
    for (b, &fi) in bodies.iter_mut().zip(f) {
        b.v += dt * fi * b.x;
    }
    for (i, b) in bodies.iter_mut().enumerate() {
        b.x += (i as f64 + 1.0) * dt * b.v;
    }
    bodies.iter().map(|b| b.x * b.v).sum()
}

/// xᵢ ← xᵢ + dt·vᵢ² by `for_each`, then vᵢ ← vᵢ·xᵢ over `&mut *bodies`. fd.
#[differentiate]
fn for_each_and_reborrow(bodies: &mut Vec<Body>, dt: f64) -> f64 {
    bodies.iter_mut().for_each(|b| b.x += dt * b.v * b.v);
    for b in &mut *bodies {
        b.v *= b.x;
    }
    bodies.iter().map(|b| b.x * b.v).sum()
}

/// The first and last bodies replaced whole: b₀ ← b₂, b₂ ← (x₀·dt, v₀); then
/// Σ xᵢ²vᵢ + x₀′. ∂x₀ = 2x₀dt²·v₀, ∂v₀ = (x₀dt)², ∂x₁ = 2x₁v₁, ∂v₁ = x₁², ∂x₂ = 2x₂v₂ + 1,
/// ∂v₂ = x₂², ∂dt = 2x₀²dt·v₀.
#[differentiate]
fn replaced_whole(bodies: &mut [Body], dt: f64) -> f64 {
    let n = bodies.len();
    let first = bodies[0].clone();
    bodies[0] = bodies[n - 1].clone();
    bodies[n - 1] = Body {
        x: first.x * dt,
        v: first.v,
    };
    bodies.iter().map(|b| b.x * b.x * b.v).sum::<f64>() + bodies[0].x
}

/// A body pushed after the last: (x + dt·v, v·dt) of the last; Σ xᵢvᵢ over all four. fd.
#[differentiate]
fn one_pushed(bodies: &mut Vec<Body>, dt: f64) -> f64 {
    let n = bodies.len();
    let last = bodies[n - 1].clone();
    bodies.push(Body {
        x: last.x + dt * last.v,
        v: last.v * dt,
    });
    bodies.iter().map(|b| b.x * b.v).sum()
}

/// The last body popped and its position added to the others': Σᵢ₌₀¹ (xᵢ + dt·x₂)vᵢ.
/// ∂xᵢ = vᵢ, ∂vᵢ = xᵢ + dt·x₂ (i < 2), ∂x₂ = dt·(v₀ + v₁), ∂v₂ = 0, ∂dt = x₂(v₀ + v₁).
#[differentiate]
fn one_popped(bodies: &mut Vec<Body>, dt: f64) -> f64 {
    let b = bodies.pop().unwrap();
    for c in bodies.iter_mut() {
        c.x += dt * b.x;
    }
    bodies.iter().map(|b| b.x * b.v).sum()
}

/// Bodies 0 and 2 swapped, then x₀′ = x₂·dt: Σ xᵢ′vᵢ′ + x₀′. fd.
#[differentiate]
fn swapped(bodies: &mut Vec<Body>, dt: f64) -> f64 {
    bodies.swap(0, 2);
    bodies[0].x *= dt;
    bodies.iter().map(|b| b.x * b.v).sum::<f64>() + bodies[0].x
}

#[test]
fn more_forms_of_writes_to_a_mut_container_of_structs() {
    let dt = 0.3;
    for flag in [true, false] {
        check_mut(
            "in a branch",
            |b, s| in_a_branch(b, s, flag),
            |b, s| in_a_branch_grad(b, s, flag),
            dt,
        );
    }
    let forms: [(&str, MutBodies, MutBodiesGrad); 4] = [
        ("while", in_a_while_loop, in_a_while_loop_grad),
        (
            "for_each",
            for_each_and_reborrow,
            for_each_and_reborrow_grad,
        ),
        ("pushed", one_pushed, one_pushed_grad),
        ("swapped", swapped, swapped_grad),
    ];
    for (what, f, g) in forms {
        check_mut(what, f, g, dt);
    }
    check_mut(
        "read between",
        |b, s| read_between_steps(b, s),
        |b, s| read_between_steps_grad(b, s),
        dt,
    );
    let f = [0.3, 0.1, -0.2];
    check_mut(
        "zip",
        |b, s| zipped_and_enumerated(b, &f, s),
        |b, s| {
            let (v, (gb, _, gs)) = zipped_and_enumerated_grad(b, &f, s);
            (v, (gb, gs))
        },
        dt,
    );

    let b0 = bodies();
    let (g, gdt) = check_mut(
        "replaced",
        |b, s| replaced_whole(b, s),
        |b, s| replaced_whole_grad(b, s),
        dt,
    );
    let [a, b, c] = [&b0[0], &b0[1], &b0[2]];
    let want = [
        Body {
            x: 2.0 * a.x * dt * dt * a.v,
            v: (a.x * dt) * (a.x * dt),
        },
        Body {
            x: 2.0 * b.x * b.v,
            v: b.x * b.x,
        },
        Body {
            x: 2.0 * c.x * c.v + 1.0,
            v: c.x * c.x,
        },
    ];
    close_bodies("replaced: ∂bodies", &g, &want);
    close("replaced: ∂dt", gdt, 2.0 * a.x * a.x * dt * a.v, TOL);

    let (g, gdt) = check_mut("popped", one_popped, one_popped_grad, dt);
    let want = [
        Body {
            x: a.v,
            v: a.x + dt * c.x,
        },
        Body {
            x: b.v,
            v: b.x + dt * c.x,
        },
        Body {
            x: dt * (a.v + b.v),
            v: 0.0,
        },
    ];
    close_bodies("popped: ∂bodies", &g, &want);
    close("popped: ∂dt", gdt, c.x * (a.v + b.v), TOL);
}

// ---------------------------------------------------------------------------------------------
// Slices and `Vec`s of tuples: read by pattern, by position and in chains; built by `push`,
// `collect` and `vec![..]`; written by position (`pts[i].0 *= w`, `p.1 = ..`) and whole.
// ---------------------------------------------------------------------------------------------

type Pts = Vec<(f64, f64)>;

/// The gradient of `f` with respect to the points against central finite differences.
#[track_caller]
fn fd_pts(what: &str, f: impl Fn(&[(f64, f64)]) -> f64, p: &[(f64, f64)], g: &Pts) {
    let r = gradcheck(|q: &Pts| f(q), &p.to_vec(), g);
    assert!(r.passed(), "{what}: {r}");
}

/// Σ xᵢyᵢ by a pattern in the closure: ∂xᵢ = yᵢ, ∂yᵢ = xᵢ.
#[differentiate]
fn dot_by_pattern(pts: &[(f64, f64)]) -> f64 {
    pts.iter().map(|&(x, y)| x * y).sum()
}

/// The same by `.0` and `.1` of the item.
#[differentiate]
fn dot_by_position(pts: &[(f64, f64)]) -> f64 {
    pts.iter().map(|p| p.0 * p.1).sum()
}

/// The same by a pattern in a `for` loop.
#[differentiate]
fn dot_in_a_for(pts: &[(f64, f64)]) -> f64 {
    let mut s = 0.0;
    for &(x, y) in pts {
        s += x * y;
    }
    s
}

/// The same by indices into a `&Vec`.
#[differentiate]
fn dot_by_index(pts: &Vec<(f64, f64)>) -> f64 {
    let mut s = 0.0;
    for i in 0..pts.len() {
        s += pts[i].0 * pts[i].1;
    }
    s
}

/// The same on a `Vec` taken by value, consumed by the loop.
#[differentiate]
fn dot_owned(pts: Vec<(f64, f64)>) -> f64 {
    let mut s = 0.0;
    for (x, y) in pts {
        s += x * y;
    }
    s
}

/// Σ wᵢ(xᵢ − yᵢ)² over `zip` with a slice of weights: ∂xᵢ = 2wᵢ(xᵢ − yᵢ) = −∂yᵢ.
#[differentiate]
fn weighted_distance(pts: &[(f64, f64)], w: &[f64]) -> f64 {
    pts.iter()
        .zip(w)
        .map(|(&(x, y), &wi)| wi * (x - y) * (x - y))
        .sum()
}

/// A tuple element by `let (a, b) = pts[0]` and a whole tuple `let c = pts[1]`:
/// a·sin b + c.0·c.1. fd.
#[differentiate]
fn tuple_elements(pts: &[(f64, f64)]) -> f64 {
    let (a, b) = pts[0];
    let c = pts[1];
    a * b.sin() + c.0 * c.1
}

#[test]
fn slices_of_tuples_read() {
    let p = vec![(0.5, 0.2), (-0.3, 0.7), (1.1, -0.4)];
    let want: Pts = p.iter().map(|&(x, y)| (y, x)).collect();
    let value: f64 = p.iter().map(|&(x, y)| x * y).sum();
    let forms: [(&str, fn(&[(f64, f64)]) -> (f64, Pts)); 3] = [
        ("pattern", dot_by_pattern_grad),
        ("position", dot_by_position_grad),
        ("for", dot_in_a_for_grad),
    ];
    for (what, g) in forms {
        let (v, gp) = g(&p);
        close(what, v, value, TOL);
        assert_eq!(gp, want, "{what}");
    }
    let (v, gp) = dot_by_index_grad(&p);
    close("index", v, value, TOL);
    assert_eq!(gp, want, "index");
    let (v, gp) = dot_owned_grad(p.clone());
    close("owned", v, value, TOL);
    assert_eq!(gp, want, "owned");
    fd_pts("pattern", dot_by_pattern, &p, &want);

    let w = [0.3, 0.5, 0.9];
    let (v, (gp, gw)) = weighted_distance_grad(&p, &w);
    close("weighted", v, weighted_distance(&p, &w), TOL);
    for (k, ((x, y), (gx, gy))) in p.iter().zip(&gp).enumerate() {
        close("∂x", *gx, 2.0 * w[k] * (x - y), TOL);
        close("∂y", *gy, -2.0 * w[k] * (x - y), TOL);
        close("∂w", gw[k], (x - y) * (x - y), TOL);
    }
    fd_pts("weighted", |p| weighted_distance(p, &w), &p, &gp);

    let (v, gp) = tuple_elements_grad(&p);
    close("elements", v, tuple_elements(&p), TOL);
    fd_pts("elements", tuple_elements, &p, &gp);
}

/// (xᵢ, xᵢ²) pushed, then Σ aᵢbᵢ = Σ xᵢ³: ∂xᵢ = 3xᵢ².
#[differentiate]
fn pushed_pairs(x: &[f64]) -> f64 {
    let mut pts = Vec::new();
    for i in 0..x.len() {
        pts.push((x[i], x[i] * x[i]));
    }
    pts.iter().map(|&(a, b)| a * b).sum()
}

/// The same pairs by `collect`.
#[differentiate]
fn collected_pairs(x: &[f64]) -> f64 {
    let pts: Vec<(f64, f64)> = x.iter().map(|&v| (v, v * v)).collect();
    pts.iter().map(|&(a, b)| a * b).sum()
}

/// The same pairs written into `vec![(0.0, 0.0); n]`.
#[differentiate]
fn written_pairs(x: &[f64]) -> f64 {
    let mut pts = vec![(0.0, 0.0); x.len()];
    for i in 0..x.len() {
        pts[i] = (x[i], x[i] * x[i]);
    }
    pts.iter().map(|&(a, b)| a * b).sum()
}

/// Pairs of neighbours by `chunks(2)`: Σ x₂ₖ·sin x₂ₖ₊₁. fd.
#[differentiate]
fn chunked_pairs(x: &[f64]) -> f64 {
    let pts: Vec<(f64, f64)> = x.chunks(2).map(|c| (c[0], c[1])).collect();
    pts.iter().map(|&(a, b)| a * b.sin()).sum()
}

/// (xᵢ, e^xᵢ) pushed, the last popped: x₃e^x₃ + e^x₀. fd.
#[differentiate]
fn popped_pair(x: &[f64]) -> f64 {
    let mut pts = Vec::new();
    for i in 0..x.len() {
        pts.push((x[i], x[i].exp()));
    }
    let (a, b) = pts.pop().unwrap();
    a * b + pts[0].1
}

/// Pairs (xᵢw, 1) pushed, then bᵢ ← bᵢ·aᵢ by rebuilding the pair: Σ aᵢ + aᵢ² with aᵢ = xᵢw.
/// ∂xᵢ = w(1 + 2aᵢ), ∂w = Σ xᵢ(1 + 2aᵢ).
#[differentiate]
fn rebuilt_pairs(x: &[f64], w: f64) -> f64 {
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for i in 0..x.len() {
        pts.push((x[i] * w, 1.0));
    }
    for i in 0..pts.len() {
        pts[i] = (pts[i].0, pts[i].1 * pts[i].0);
    }
    let mut s = 0.0;
    for &(a, b) in &pts {
        s += a + b * b;
    }
    s
}

/// Pairs written by position into `vec![(0.0, 1.0); n]`: aᵢ = xᵢw, bᵢ = xᵢ; Σ aᵢbᵢ = wΣ xᵢ².
/// ∂xᵢ = 2wxᵢ, ∂w = Σ xᵢ².
#[differentiate]
fn pairs_by_position(x: &[f64], w: f64) -> f64 {
    let mut pts = vec![(0.0, 1.0); x.len()];
    for i in 0..x.len() {
        pts[i].0 = x[i] * w;
        pts[i].1 *= x[i];
    }
    let mut s = 0.0;
    for &(a, b) in &pts {
        s += a * b;
    }
    s
}

/// A local tuple written by position: t = (xy, y + sin(xy)); t.0·t.1. fd.
#[differentiate]
fn local_tuple_by_position(x: f64, y: f64) -> f64 {
    let mut t = (x, y);
    t.0 = t.0 * t.1;
    t.1 += t.0.sin();
    t.0 * t.1
}

#[test]
fn vecs_of_tuples_built_and_written() {
    let x = vec![0.5, -0.3, 1.1, 0.7];
    let cubes: Vec<f64> = x.iter().map(|v| 3.0 * v * v).collect();
    let forms: [(&str, fn(&[f64]) -> f64, fn(&[f64]) -> (f64, Vec<f64>)); 3] = [
        ("push", pushed_pairs, pushed_pairs_grad),
        ("collect", collected_pairs, collected_pairs_grad),
        ("vec!", written_pairs, written_pairs_grad),
    ];
    for (what, f, g) in forms {
        let (v, gx) = g(&x);
        close(what, v, f(&x), TOL);
        close_all(what, &gx, &cubes);
    }
    let forms: [(&str, fn(&[f64]) -> f64, fn(&[f64]) -> (f64, Vec<f64>)); 2] = [
        ("chunks", chunked_pairs, chunked_pairs_grad),
        ("pop", popped_pair, popped_pair_grad),
    ];
    for (what, f, g) in forms {
        let (v, gx) = g(&x);
        close(what, v, f(&x), TOL);
        fd_vec(what, f, &x, &gx);
    }

    let w = 1.3;
    let (v, (gx, gw)) = rebuilt_pairs_grad(&x, w);
    close("rebuilt", v, rebuilt_pairs(&x, w), TOL);
    let want: Vec<f64> = x.iter().map(|xi| w * (1.0 + 2.0 * xi * w)).collect();
    close_all("rebuilt: ∂x", &gx, &want);
    close(
        "rebuilt: ∂w",
        gw,
        x.iter().map(|xi| xi * (1.0 + 2.0 * xi * w)).sum(),
        TOL,
    );

    let (v, (gx, gw)) = pairs_by_position_grad(&x, w);
    close("by position", v, pairs_by_position(&x, w), TOL);
    let want: Vec<f64> = x.iter().map(|xi| 2.0 * w * xi).collect();
    close_all("by position: ∂x", &gx, &want);
    close("by position: ∂w", gw, x.iter().map(|xi| xi * xi).sum(), TOL);

    let (v, g) = local_tuple_by_position_grad(0.4, 1.2);
    close("local", v, local_tuple_by_position(0.4, 1.2), TOL);
    fd2("local", local_tuple_by_position, (0.4, 1.2), g);
}

/// xᵢ ← xᵢ·w by position through a `&mut` slice of tuples; Σ xᵢ′yᵢ:
/// ∂xᵢ = w·yᵢ, ∂yᵢ = w·xᵢ, ∂w = Σ xᵢyᵢ.
#[differentiate]
fn scaled_by_position(pts: &mut [(f64, f64)], w: f64) -> f64 {
    for i in 0..pts.len() {
        pts[i].0 *= w;
    }
    pts.iter().map(|p| p.0 * p.1).sum()
}

/// The same through the items of `iter_mut()`, the pair rebuilt whole.
#[differentiate]
fn scaled_whole(pts: &mut [(f64, f64)], w: f64) -> f64 {
    for p in pts.iter_mut() {
        *p = (p.0 * w, p.1);
    }
    pts.iter().map(|p| p.0 * p.1).sum()
}

/// The same on a local copy, `pts0.to_vec()`, by index.
#[differentiate]
fn scaled_copy(pts0: &[(f64, f64)], w: f64) -> f64 {
    let mut pts = pts0.to_vec();
    for i in 0..pts.len() {
        pts[i] = (pts[i].0 * w, pts[i].1);
    }
    pts.iter().map(|p| p.0 * p.1).sum()
}

/// yᵢ ← xᵢ·w·yᵢ through the items of `iter_mut()`, by position: Σ xᵢ²wyᵢ. fd.
#[differentiate]
fn item_by_position(pts: &mut [(f64, f64)], w: f64) -> f64 {
    for p in pts.iter_mut() {
        p.1 = p.0 * w * p.1;
    }
    pts.iter().map(|p| p.0 * p.1).sum()
}

/// The first pair pushed again with x·w: Σ xᵢyᵢ + x₀wy₀. fd.
#[differentiate]
fn pair_pushed(pts: &mut Vec<(f64, f64)>, w: f64) -> f64 {
    let p = pts[0];
    pts.push((p.0 * w, p.1));
    pts.iter().map(|p| p.0 * p.1).sum()
}

#[test]
fn mut_slices_of_tuples_written() {
    let p0 = vec![(0.5, 0.2), (-0.3, 0.7), (1.1, -0.4)];
    let w = 1.3;
    let want: Pts = p0.iter().map(|&(x, y)| (w * y, w * x)).collect();
    let want_w: f64 = p0.iter().map(|&(x, y)| x * y).sum();
    let forms: [(
        &str,
        fn(&mut [(f64, f64)], f64) -> f64,
        fn(&mut [(f64, f64)], f64) -> (f64, (Pts, f64)),
    ); 2] = [
        ("by position", scaled_by_position, scaled_by_position_grad),
        ("whole", scaled_whole, scaled_whole_grad),
    ];
    for (what, f, g) in forms {
        let mut p = p0.clone();
        let (v, (gp, gw)) = g(&mut p, w);
        let mut after = p0.clone();
        close(what, v, f(&mut after, w), TOL);
        assert_eq!(p, after, "{what}: the caller's points");
        for (a, b) in gp.iter().zip(&want) {
            close(what, a.0, b.0, TOL);
            close(what, a.1, b.1, TOL);
        }
        close(what, gw, want_w, TOL);
    }
    let (v, (gp, gw)) = scaled_copy_grad(&p0, w);
    close("copy", v, scaled_copy(&p0, w), TOL);
    fd_pts("copy", |p| scaled_copy(p, w), &p0, &gp);
    close("copy: ∂w", gw, want_w, TOL);

    let mut p = p0.clone();
    let (v, (gp, _)) = item_by_position_grad(&mut p, w);
    let mut after = p0.clone();
    close("item", v, item_by_position(&mut after, w), TOL);
    assert_eq!(p, after);
    fd_pts("item", |p| item_by_position(&mut p.to_vec(), w), &p0, &gp);

    let mut p = p0.clone();
    let (v, (gp, gw)) = pair_pushed_grad(&mut p, w);
    let mut after = p0.clone();
    close("pushed", v, pair_pushed(&mut after, w), TOL);
    assert_eq!(p, after);
    let r = gradcheck(
        |q: &(Pts, f64)| pair_pushed(&mut q.0.clone(), q.1),
        &(p0.clone(), w),
        &(gp, gw),
    );
    assert!(r.passed(), "pushed: {r}");
}

/// Pairs of an index and a float left out of the differentiated parameters, as the error for
/// `&[(usize, f64)]` says: w·Σ iₖ·xₖ, ∂w = Σ iₖ·xₖ.
#[differentiate(wrt(w))]
fn indexed_weights(pts: &[(usize, f64)], w: f64) -> f64 {
    pts.iter().map(|&(i, x)| i as f64 * x * w).sum()
}

#[test]
fn tuples_of_indices_and_floats_left_out() {
    let pts = [(0, 0.5), (2, -0.3), (5, 1.1)];
    let (v, gw) = indexed_weights_grad(&pts, 1.5);
    close("value", v, indexed_weights(&pts, 1.5), TOL);
    close("∂w", gw, pts.iter().map(|&(i, x)| i as f64 * x).sum(), TOL);
}

#[derive(Differentiable, Clone, Copy, Debug, PartialEq)]
struct Point {
    x: f64,
    v: f64,
}

/// An element of a local `Vec` of `Copy` structs copied out (`let q = ps[1];`), then the `Vec`
/// written while the copy is still read: ps[1].v ← 2·ps[1].v, and
/// f = ps[0].x + ps[1].v + q.v·q.x = x₀ + 2v₁ + v₁x₁ with q the old ps[1]: ∂x₀ = 1, ∂v₀ = 0,
/// ∂x₁ = v₁, ∂v₁ = 2 + x₁. It was rustc's "cannot move out of value because it is borrowed" at
/// the attribute: the copy was emitted as a borrow of the `Vec`'s element.
#[differentiate]
fn struct_copied_then_written(x: &[f64]) -> f64 {
    let mut ps = vec![Point { x: x[0], v: x[1] }, Point { x: x[2], v: x[3] }];
    let q = ps[1];
    ps[1].v *= 2.0;
    ps[0].x + ps[1].v + q.v * q.x
}

#[test]
fn struct_element_copied_out_then_written() {
    let x = [0.4, -1.2, 0.7, 1.5];
    let (v, g) = struct_copied_then_written_grad(&x);
    close("value", v, struct_copied_then_written(&x), TOL);
    close_all("∇", &g, &[1.0, 0.0, x[3], 2.0 + x[2]]);
    let t = [1.0, 0.5, -0.25, 2.0];
    let (y, dy) = struct_copied_then_written_jvp(&x, &t.to_vec());
    assert_eq!(y, v);
    close("jvp", dy, g.iter().zip(&t).map(|(a, b)| a * b).sum(), TOL);
}
