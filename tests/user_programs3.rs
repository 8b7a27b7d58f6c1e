//! Programs written as Rust engineers write scalar objectives and small models, with the
//! reproducers of the classes that once failed: assignments to the fields of a local struct
//! (`s.x = ..`, `s.v[i] += ..`, `s.pos.y -= ..`, `s.items.push(..)`), rejected before; a
//! method of the user's called on a `mut` parameter taken by value after one of its fields was
//! assigned (`s.k += x; s.energy(x)`); `reserve`/`shrink_to_fit`, rejected as mutations the
//! derivative could not follow; an element's `Option` with a default (`v.pop().unwrap_or(d)`,
//! `v.last().copied().unwrap_or(d)`, `v.get(i).copied().unwrap_or(d)`), rejected before; and
//! `s.a.max(s.b)` on a struct's fields with `kinks = exact`, which failed to compile in the
//! generated code (the decision was given the field's reference); an `Option<f64>` parameter
//! (a setting that may be off), differentiated by default and so never compiling.
//!
//! Each gradient is checked against central finite differences through `autodiff::check` and,
//! where it is short to write, against the analytic one (stated beside the function); each
//! value against the plain function's.

#![allow(
    clippy::needless_range_loop,
    clippy::ptr_arg,
    clippy::needless_return,
    clippy::useless_vec,
    clippy::field_reassign_with_default,
    clippy::manual_memcpy,
    clippy::assign_op_pattern,
    clippy::reserve_after_initialization
)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use num_traits::Float;
use std::f64::consts::PI;

mod common;
use common::*;

const XS: [f64; 5] = [0.3, -0.5, 1.2, 0.8, -0.1];
const YS: [f64; 5] = [0.5, 0.1, -0.3, 0.9, 0.4];

// ---------------------------------------------------------------------------------------------
// Assignments to the fields of a local struct.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct State {
    x: f64,
    v: f64,
}

/// Symplectic Euler on a struct's fields: a loop carrying `s`, each step two field updates.
#[differentiate]
fn oscillator_fields(x0: f64, v0: f64) -> f64 {
    let mut s = State { x: x0, v: v0 };
    let dt = 0.1;
    for _ in 0..10 {
        s.v -= s.x * dt;
        s.x += s.v * dt;
    }
    s.x * s.x + s.v
}

/// The same on plain variables.
fn oscillator_vars(x0: f64, v0: f64) -> f64 {
    let (mut x, mut v) = (x0, v0);
    for _ in 0..10 {
        v -= x * 0.1;
        x += v * 0.1;
    }
    x * x + v
}

#[test]
fn fields_of_a_local_struct_are_assigned_in_a_loop() {
    let (y, g) = oscillator_fields_grad(1.0, 0.5);
    close("value", y, oscillator_vars(1.0, 0.5), TOL);
    // The map (x, v) ↦ (x', v') is linear: ∂ of x'² + v' is 2x'·∂x' + ∂v', both linear in
    // (x₀, v₀); the function on plain variables gives the same derivatives to rounding.
    let h = 1e-6;
    let dx = (oscillator_vars(1.0 + h, 0.5) - oscillator_vars(1.0 - h, 0.5)) / (2.0 * h);
    let dv = (oscillator_vars(1.0, 0.5 + h) - oscillator_vars(1.0, 0.5 - h)) / (2.0 * h);
    close("∂x₀", g.0, dx, 1e-8);
    close("∂v₀", g.1, dv, 1e-8);
    fd2("oscillator", oscillator_fields, (1.0, 0.5), g);
}

#[derive(Clone, Differentiable)]
struct Pair {
    a: f64,
    b: f64,
}

/// A field overwritten with a constant: what it held before gets no gradient.
/// s.b = 2y + xy, result 2·s.b = 4y + 2xy: ∂x = 2y, ∂y = 4 + 2x.
#[differentiate]
fn overwritten(x: f64, y: f64) -> f64 {
    let mut s = Pair { a: x * y, b: y };
    let first = s.a;
    s.a = 2.0;
    s.b = s.a * s.b + first;
    s.a * s.b
}

#[test]
fn a_field_overwritten_with_a_constant_has_no_gradient_left() {
    let (x, y) = (0.3, 0.7);
    let (v, g) = overwritten_grad(x, y);
    close("value", v, overwritten(x, y), TOL);
    close2("gradient", g, (2.0 * y, 4.0 + 2.0 * x));
    fd2("overwritten", overwritten, (x, y), g);
}

#[derive(Clone, Debug, Differentiable)]
struct V2 {
    x: f64,
    y: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct Body {
    pos: V2,
    vel: V2,
    m: f64,
}

impl Body {
    #[differentiate]
    fn energy(&self, g: f64) -> f64 {
        0.5 * self.m * (self.vel.x * self.vel.x + self.vel.y * self.vel.y) + self.m * g * self.pos.y
    }
}

/// A ball thrown over a floor that bounces it: nested fields assigned in a loop and in a
/// branch, then a method of the struct.
#[differentiate]
fn bouncing(vx: f64, vy: f64, m: f64) -> f64 {
    let mut b = Body {
        pos: V2 { x: 0.0, y: 1.0 },
        vel: V2 { x: vx, y: vy },
        m,
    };
    let dt = 0.05;
    for _ in 0..20 {
        b.vel.y -= 9.81 * dt;
        b.vel.x *= 1.0 - 0.1 * dt;
        b.pos.x += b.vel.x * dt;
        b.pos.y += b.vel.y * dt;
        if b.pos.y < 0.0 {
            b.pos.y = -b.pos.y;
            b.vel.y = -0.9 * b.vel.y;
        }
    }
    b.energy(9.81) + b.pos.x
}

#[test]
fn nested_fields_are_assigned_in_loops_and_branches() {
    let (y, (dvx, dvy, dm)) = bouncing_grad(1.0, 0.5, 2.0);
    close("value", y, bouncing(1.0, 0.5, 2.0), TOL);
    fd2(
        "bouncing",
        |a, b| bouncing(a, b, 2.0),
        (1.0, 0.5),
        (dvx, dvy),
    );
    // The trajectory does not depend on m: the energy is linear in it, ∂m = energy / m.
    close("∂m", dm, (y - bouncing(1.0, 0.5, 0.0)) / 2.0, 1e-12);
    fd("bouncing m", |m| bouncing(1.0, 0.5, m), 2.0, dm);
}

#[derive(Clone, Differentiable)]
struct Swarm {
    ps: Vec<V2>,
    w: f64,
}

/// A `Vec` field built with `push`, its elements' fields assigned by index.
#[differentiate]
fn swarm(xs: &[f64], w: f64) -> f64 {
    let mut s = Swarm { ps: Vec::new(), w };
    for &x in xs {
        s.ps.push(V2 { x, y: x * x });
    }
    for i in 0..s.ps.len() {
        s.ps[i].y += s.w * s.ps[i].x;
        s.ps[i].x = s.ps[i].y.sin();
    }
    s.w = s.w * 2.0;
    s.ps.iter().map(|p| p.x * p.y).sum::<f64>() * s.w
}

#[test]
fn a_vec_field_is_pushed_to_and_its_elements_fields_assigned() {
    let xs = [0.3, -0.2, 0.8];
    let (y, (gx, gw)) = swarm_grad(&xs, 0.4);
    close("value", y, swarm(&xs, 0.4), TOL);
    // yᵢ = xᵢ² + w·xᵢ, term sin(yᵢ)·yᵢ·2w: ∂xᵢ = 2w·(cos yᵢ·yᵢ + sin yᵢ)·(2xᵢ + w).
    let w = 0.4;
    let expected: Vec<f64> = xs
        .iter()
        .map(|&x| {
            let y = x * x + w * x;
            2.0 * w * (y.cos() * y + y.sin()) * (2.0 * x + w)
        })
        .collect();
    close_all("∂xs", &gx, &expected);
    fd_vec("swarm", |v| swarm(v, 0.4), &xs, &gx);
    fd("swarm w", |w| swarm(&xs, w), 0.4, gw);
}

#[derive(Clone, Differentiable)]
struct Histogram {
    bins: Vec<f64>,
    total: f64,
}

/// A soft histogram: a `Vec<f64>` field's elements and a scalar field accumulated in a loop
/// nest.
#[differentiate(wrt(xs))]
fn soft_histogram(xs: &[f64], nbins: usize) -> f64 {
    let mut h = Histogram {
        bins: vec![0.0; nbins],
        total: 0.0,
    };
    for &x in xs {
        for k in 0..nbins {
            let c = k as f64 / nbins as f64;
            let w = (-(x - c).powi(2) * 10.0).exp();
            h.bins[k] += w;
            h.total += w;
        }
    }
    h.bins.iter().map(|b| (b / h.total).powi(2)).sum()
}

#[test]
fn elements_of_a_vec_field_are_accumulated() {
    let xs = [0.3, -0.2, 0.8];
    let (y, g) = soft_histogram_grad(&xs, 4);
    close("value", y, soft_histogram(&xs, 4), TOL);
    fd_vec("soft histogram", |v| soft_histogram(v, 4), &xs, &g);
}

#[derive(Clone, Differentiable)]
struct Buffer {
    v: Vec<f64>,
    s: f64,
}

/// `b.v.push(..)` on a field; Σ exp(xᵢ) · Σ xᵢ: ∂xᵢ = exp(xᵢ)·Σx + Σ exp(x).
#[differentiate]
fn pushed_to_a_field(x: &[f64]) -> f64 {
    let mut b = Buffer {
        v: Vec::new(),
        s: 0.0,
    };
    for &xi in x {
        b.v.push(xi.exp());
        b.s += xi;
    }
    b.v.iter().sum::<f64>() * b.s
}

#[test]
fn a_field_is_pushed_to() {
    let (y, g) = pushed_to_a_field_grad(&XS);
    close("value", y, pushed_to_a_field(&XS), TOL);
    let (se, s): (f64, f64) = (XS.iter().map(|x| x.exp()).sum(), XS.iter().sum());
    let expected: Vec<f64> = XS.iter().map(|x| x.exp() * s + se).collect();
    close_all("∂x", &g, &expected);
    fd_vec("pushed to a field", pushed_to_a_field, &XS, &g);
}

/// A field set from a `collect`, extended by a chain and a slice, truncated; with
/// u = Σ (a·xᵢ + sin xᵢ): (u)², ∂a = 2u·Σ xᵢ, ∂xᵢ = 2u·(a + cos xᵢ).
#[differentiate]
fn built_in_a_field(x: &[f64], a: f64) -> f64 {
    let mut b = Buffer {
        v: Vec::new(),
        s: a,
    };
    b.v = x.iter().map(|t| t * a).collect();
    b.v.extend(x.iter().map(|t| t.sin()));
    b.v.extend_from_slice(x);
    b.v.truncate(2 * x.len());
    b.s = b.v.iter().sum::<f64>();
    b.s * b.s
}

#[test]
fn a_field_is_collected_into_and_extended() {
    let a = 0.7;
    let (y, (gx, ga)) = built_in_a_field_grad(&XS, a);
    close("value", y, built_in_a_field(&XS, a), TOL);
    let u: f64 = XS.iter().map(|x| a * x + x.sin()).sum();
    close("∂a", ga, 2.0 * u * XS.iter().sum::<f64>(), TOL);
    close_all("∂x", &gx, &XS.map(|x| 2.0 * u * (a + x.cos())));
}

#[derive(Clone, Differentiable)]
struct Spring {
    k: f64,
    rest: f64,
}

impl Spring {
    #[differentiate]
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * (x - self.rest).powi(2)
    }
}

/// A copy of a parameter struct, changed, then its method: ½·2k·(x − r − 0.1x)²;
/// with u = 0.9x − r: ∂k = u², ∂r = −2k·u, ∂x = 2k·u·0.9.
#[differentiate]
fn stiffened(sp: &Spring, x: f64) -> f64 {
    let mut s = sp.clone();
    s.k *= 2.0;
    s.rest = s.rest + 0.1 * x;
    s.energy(x)
}

/// A parameter taken by value, changed, then its method: ½(k + x)(x − r)².
#[differentiate]
fn loosened(mut s: Spring, x: f64) -> f64 {
    s.k += x;
    s.energy(x)
}

#[test]
fn copies_and_owned_parameters_are_changed_then_their_methods_called() {
    let sp = Spring { k: 1.5, rest: 0.2 };
    let x = 0.9;
    let (y, (gs, gx)) = stiffened_grad(&sp, x);
    close("value", y, stiffened(&sp, x), TOL);
    let u = 0.9 * x - sp.rest;
    close("∂k", gs.k, u * u, TOL);
    close("∂rest", gs.rest, -2.0 * sp.k * u, TOL);
    close("∂x", gx, 2.0 * sp.k * u * 0.9, TOL);
    fd("stiffened x", |x| stiffened(&sp, x), x, gx);

    let (y, (gs, gx)) = loosened_grad(sp.clone(), x);
    close("value", y, loosened(sp.clone(), x), TOL);
    let d = x - sp.rest;
    close("∂k", gs.k, 0.5 * d * d, TOL);
    close("∂rest", gs.rest, -(sp.k + x) * d, TOL);
    close("∂x", gx, 0.5 * d * d + (sp.k + x) * d, TOL);
    fd2(
        "loosened",
        |k, r| loosened(Spring { k, rest: r }, x),
        (sp.k, sp.rest),
        (gs.k, gs.rest),
    );
}

#[derive(Clone, Differentiable)]
struct Gp<T> {
    a: T,
    b: T,
}

/// A generic struct's fields: a = x·x², b = x² + sin a; a + b.
#[differentiate]
fn generic_fields<T: Float>(x: T) -> T {
    let mut p = Gp { a: x, b: x * x };
    p.a = p.a * p.b;
    p.b = p.b + p.a.sin();
    p.a + p.b
}

#[test]
fn fields_of_a_generic_struct_are_assigned() {
    let x = 0.6f64;
    let (y, g) = generic_fields_grad(x);
    close("value", y, generic_fields(x), TOL);
    // d/dx (x³ + x² + sin x³) = 3x² + 2x + 3x²·cos x³.
    close(
        "∂x",
        g,
        3.0 * x * x + 2.0 * x + 3.0 * x * x * (x * x * x).cos(),
        TOL,
    );
    let (y32, g32) = generic_fields_grad(0.6f32);
    fd32("f32", generic_fields, 0.6, g32);
    assert_eq!(y32, generic_fields(0.6f32));
}

/// Not a parameter struct: data nothing differentiated reaches, its fields assigned as written.
struct Stats {
    calls: u32,
    last: f64,
}

#[differentiate(wrt(x))]
fn with_stats(x: f64, mut stats: Stats) -> f64 {
    stats.calls += 1;
    let mut local = Stats {
        calls: 0,
        last: 0.0,
    };
    local.calls = stats.calls * 2;
    local.last = 3.0;
    x * x * local.calls as f64 + local.last
}

#[test]
fn fields_of_data_are_assigned_as_written() {
    let (y, g) = with_stats_grad(
        0.6,
        Stats {
            calls: 1,
            last: 0.0,
        },
    );
    close("value", y, 0.36 * 4.0 + 3.0, TOL);
    close("∂x", g, 2.0 * 0.6 * 4.0, TOL);
}

/// Second order through field assignments.
#[differentiate(hessian)]
fn hessian_fields(x: f64, y: f64) -> f64 {
    let mut s = Pair { a: x, b: y };
    s.a = s.a * s.b;
    s.b += s.a.sin();
    s.a * s.b
}

#[test]
fn field_assignments_in_forward_mode_and_second_order() {
    let (x, y) = (0.6, 0.4);
    let (_, g) = hessian_fields_grad(x, y);
    fd2("gradient", hessian_fields, (x, y), g);
    forward("hessian_fields").two(
        (x, y),
        hessian_fields,
        hessian_fields_jvp,
        hessian_fields_vjp,
    );
    // f = xy(y + sin xy); with p = xy: ∂x f = y·(y + sin p) + p·cos p·y.
    let p = x * y;
    close("∂x", g.0, y * (y + p.sin()) + p * p.cos() * y, TOL);
    // The Hessian-vector product against differences of the gradient.
    let (_, g0, hv) = hessian_fields_hvp(x, y, 1.0, 0.0);
    close2("gradient", g0, g);
    let h = 1e-5;
    let (_, gp) = hessian_fields_grad(x + h, y);
    let (_, gm) = hessian_fields_grad(x - h, y);
    close("H₀₀", hv.0, (gp.0 - gm.0) / (2.0 * h), 1e-8);
    close("H₁₀", hv.1, (gp.1 - gm.1) / (2.0 * h), 1e-8);
}

/// `max`, `abs`, `clamp`, `hypot` of a struct's fields, exact at kinks.
#[differentiate(kinks = exact)]
fn fields_at_kinks(x: f64, y: f64) -> f64 {
    let mut s = Pair { a: x, b: y };
    s.a = s.a.max(s.b);
    s.b = s.a.abs() * s.b + s.b.clamp(-1.0, 0.2) + s.a.hypot(s.b);
    s.a + s.b
}

#[differentiate(kinks = exact)]
fn parameter_fields_at_kinks(s: &Pair) -> f64 {
    s.a.max(s.b) * s.b + s.a.abs().min(s.b)
}

#[test]
fn fields_are_read_by_value_at_kinks() {
    let (x, y) = (0.5, 0.3);
    let (v, g) = fields_at_kinks_grad(x, y);
    close("value", v, fields_at_kinks(x, y), TOL);
    fd2("fields at kinks", fields_at_kinks, (x, y), g);
    // a = x; b = x·y + 0.2 + hypot(x, y): ∂x = 1 + y + x/h, ∂y = x + y/h.
    let h = x.hypot(y);
    close2("gradient", g, (1.0 + y + x / h, x + y / h));
    let (_, gp) = parameter_fields_at_kinks_grad(&Pair { a: x, b: y });
    // max(a, b)·b + min(|a|, b) = a·b + b: ∂a = b, ∂b = a + 1.
    close2("parameter", (gp.a, gp.b), (y, x + 1.0));
}

// ---------------------------------------------------------------------------------------------
// Vec building and mutation.
// ---------------------------------------------------------------------------------------------

/// `reserve` and `shrink_to_fit` change no value: Σ xᵢ², ∂xᵢ = 2xᵢ.
#[differentiate]
fn reserved(x: &[f64]) -> f64 {
    let mut v = Vec::new();
    v.reserve(x.len());
    for &xi in x {
        v.push(xi * xi);
    }
    v.shrink_to_fit();
    v.iter().sum()
}

#[test]
fn capacity_changes_are_not_mutations() {
    let (y, g) = reserved_grad(&XS);
    close("value", y, reserved(&XS), TOL);
    close_all("∂x", &g, &XS.map(|x| 2.0 * x));
    fd_vec("reserved", reserved, &XS, &g);
}

/// A stack machine: each input pops the top (or 1.0 on an empty stack) and pushes two values.
#[differentiate]
fn stack_machine(x: &[f64]) -> f64 {
    let mut st: Vec<f64> = Vec::with_capacity(4);
    for &v in x {
        let a = st.pop().unwrap_or(1.0);
        st.push(a * v + 0.5);
        st.push(v);
    }
    st.shrink_to_fit();
    st.reserve_exact(2);
    st.iter().sum()
}

/// `pop().unwrap_or(d)`: a·b of the last two, with defaults past the end.
#[differentiate]
fn pop_or(x: &[f64], d: f64) -> f64 {
    let mut st: Vec<f64> = x.to_vec();
    let a = st.pop().unwrap_or(d);
    let b = st.pop().unwrap_or(2.0 * d);
    a * b
}

#[test]
fn pop_with_a_default() {
    for x in [vec![0.3, 0.7, -0.2], vec![0.5], vec![]] {
        let (y, gx) = stack_machine_grad(&x);
        close("value", y, stack_machine(&x), TOL);
        fd_vec("stack machine", stack_machine, &x, &gx);
        let (y, (gx, gd)) = pop_or_grad(&x, 0.4);
        close("value", y, pop_or(&x, 0.4), TOL);
        let r = gradcheck(
            |p: &(Vec<f64>, f64)| pop_or(&p.0, p.1),
            &(x.clone(), 0.4),
            &(gx, gd),
        );
        assert!(r.passed(), "pop_or at {x:?}: {r}");
    }
    // Analytic, one element: a = x₀, b = 2d: ∂x₀ = 2d, ∂d = 2x₀.
    let (_, (gx, gd)) = pop_or_grad(&[0.5], 0.4);
    close_all("∂x", &gx, &[0.8]);
    close("∂d", gd, 1.0, TOL);
}

#[derive(Clone, Differentiable)]
struct Stack {
    items: Vec<f64>,
    base: f64,
}

/// Popping a `Vec` field with a default from another field.
#[differentiate]
fn pop_field(x: &[f64], d: f64) -> f64 {
    let mut s = Stack {
        items: x.to_vec(),
        base: d,
    };
    let mut acc = 0.0;
    for k in 0..4 {
        let top = s.items.pop().unwrap_or(s.base);
        acc += top * (k as f64 + 1.0);
    }
    acc + s.items.len() as f64
}

/// Element reads with defaults: `last`, `first`, `get` with `copied`/`cloned`.
#[differentiate]
fn element_or(x: &[f64], d: f64) -> f64 {
    let a = x.last().copied().unwrap_or(d);
    let b = x.first().cloned().unwrap_or(2.0 * d);
    let c = x.get(1).copied().unwrap_or(d * d);
    let e = x.get(10).copied().unwrap_or(d * 3.0);
    a * b + c * e
}

#[test]
fn element_reads_with_a_default() {
    for x in [vec![0.3, 0.7, -0.2], vec![0.5], vec![]] {
        let (y, (gx, gd)) = pop_field_grad(&x, 0.4);
        close("value", y, pop_field(&x, 0.4), TOL);
        let r = gradcheck(
            |p: &(Vec<f64>, f64)| pop_field(&p.0, p.1),
            &(x.clone(), 0.4),
            &(gx, gd),
        );
        assert!(r.passed(), "pop_field at {x:?}: {r}");
        let (y, (gx, gd)) = element_or_grad(&x, 0.4);
        close("value", y, element_or(&x, 0.4), TOL);
        let r = gradcheck(
            |p: &(Vec<f64>, f64)| element_or(&p.0, p.1),
            &(x.clone(), 0.4),
            &(gx, gd),
        );
        assert!(r.passed(), "element_or at {x:?}: {r}");
    }
    // Empty: 2d² + 3d³, ∂d = 4d + 9d².
    let (_, (_, gd)) = element_or_grad(&[], 0.4);
    close("∂d", gd, 1.6 + 9.0 * 0.16, TOL);
}

/// `extend` with a chain, `with_capacity`, `collect`: Σ sin(s·xᵢ)² + Σ xᵢ².
#[differentiate]
fn extended(x: &[f64], s: f64) -> f64 {
    let scaled: Vec<f64> = x.iter().map(|v| v * s).collect();
    let mut all = Vec::with_capacity(2 * x.len());
    all.extend(scaled.iter().map(|v| v.sin()));
    all.extend(x.iter().copied());
    all.iter().map(|v| v * v).sum()
}

#[test]
fn vecs_extended_from_chains() {
    let s = 0.7;
    let (y, (gx, gs)) = extended_grad(&XS, s);
    close("value", y, extended(&XS, s), TOL);
    // ∂xᵢ = 2 sin(s xᵢ) cos(s xᵢ)·s + 2xᵢ = s·sin(2s xᵢ) + 2xᵢ.
    close_all("∂x", &gx, &XS.map(|x| s * (2.0 * s * x).sin() + 2.0 * x));
    let expected: f64 = XS.iter().map(|x| x * (2.0 * s * x).sin()).sum();
    close("∂s", gs, expected, TOL);
    fd_vec("extended", |v| extended(v, s), &XS, &gx);
}

// ---------------------------------------------------------------------------------------------
// Iterator chains and closures.
// ---------------------------------------------------------------------------------------------

/// Σ (i + 1)·aᵢ·bᵢ: ∂aᵢ = (i + 1)·bᵢ.
#[differentiate]
fn weighted_dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b.iter())
        .enumerate()
        .map(|(i, (x, y))| (i as f64 + 1.0) * x * y)
        .sum()
}

/// 1 + Σ ln xᵢ over the positive ones: ∂xᵢ = 1/xᵢ there.
#[differentiate]
fn positive_logs(x: &[f64]) -> f64 {
    x.iter()
        .filter(|v| **v > 0.0)
        .fold(1.0, |acc, v| acc + v.ln())
}

/// Π (1 + xᵢ²): ∂xᵢ = P·2xᵢ/(1 + xᵢ²).
#[differentiate]
fn product(x: &[f64]) -> f64 {
    x.iter().map(|v| 1.0 + v * v).product()
}

/// Total variation Σ (xᵢ₊₁ − xᵢ)² and curvature over windows of three.
#[differentiate]
fn smoothness(x: &[f64]) -> f64 {
    let tv = x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>();
    let mut c = 0.0;
    for (i, w) in x.windows(3).enumerate() {
        c += (i as f64 + 1.0) * (w[0] - 2.0 * w[1] + w[2]).powi(2);
    }
    tv + c
}

/// Norms of pairs.
#[differentiate]
fn chunk_norms(x: &[f64]) -> f64 {
    let mut total = 0.0;
    for c in x.chunks(2) {
        let n: f64 = c.iter().map(|v| v * v).sum();
        total += n.sqrt();
    }
    total
}

/// `rev`, `skip`, `take`, `step_by`.
#[differentiate]
fn adapters(x: &[f64]) -> f64 {
    let a: f64 = x.iter().rev().skip(1).take(3).sum();
    let b: f64 = x.iter().step_by(2).map(|v| v * v).sum();
    a * b
}

/// Three slices zipped.
#[differentiate]
fn zip3(a: &[f64], b: &[f64], c: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .zip(c)
        .map(|((x, y), z)| x * y + z.sin())
        .sum()
}

#[test]
fn iterator_chains() {
    let (y, (ga, gb)) = weighted_dot_grad(&XS, &YS);
    close("value", y, weighted_dot(&XS, &YS), TOL);
    let wa: Vec<f64> = (0..5).map(|i| (i as f64 + 1.0) * YS[i]).collect();
    let wb: Vec<f64> = (0..5).map(|i| (i as f64 + 1.0) * XS[i]).collect();
    close_all("∂a", &ga, &wa);
    close_all("∂b", &gb, &wb);

    let (y, g) = positive_logs_grad(&XS);
    close("value", y, positive_logs(&XS), TOL);
    close_all("∂x", &g, &XS.map(|x| if x > 0.0 { 1.0 / x } else { 0.0 }));

    let (y, g) = product_grad(&XS);
    close("value", y, product(&XS), TOL);
    close_all("∂x", &g, &XS.map(|x| y * 2.0 * x / (1.0 + x * x)));

    let (y, g) = smoothness_grad(&XS);
    close("value", y, smoothness(&XS), TOL);
    fd_vec("smoothness", smoothness, &XS, &g);

    let (y, g) = chunk_norms_grad(&XS);
    close("value", y, chunk_norms(&XS), TOL);
    fd_vec("chunk norms", chunk_norms, &XS, &g);

    let (y, g) = adapters_grad(&XS);
    close("value", y, adapters(&XS), TOL);
    fd_vec("adapters", adapters, &XS, &g);

    let (y, (_, _, gc)) = zip3_grad(&XS, &YS, &XS);
    close("value", y, zip3(&XS, &YS, &XS), TOL);
    fd_vec("zip3", |c| zip3(&XS, &YS, c), &XS, &gc);
}

/// Local closures called several times, capturing nothing and capturing a parameter.
#[differentiate]
fn closures(x: f64, y: f64, xs: &[f64]) -> f64 {
    let sq = |t: f64| t * t;
    let sig = |t: f64| 1.0 / (1.0 + (-t).exp());
    let f = |t: f64| (x * t).tanh();
    let g = |v: f64| {
        let t = v * y;
        let u = t.sin();
        u * u + t
    };
    sq(x) + sq(y) + sig(x * y) * sq(x - y) + xs.iter().map(|&t| f(t)).sum::<f64>() + g(x)
}

/// An accumulator changed by a closure given to `for_each`: Σ xᵢ².
#[differentiate]
fn for_each_sum(x: &[f64]) -> f64 {
    let mut acc = 0.0;
    x.iter().for_each(|v| acc += v * v);
    acc
}

#[test]
fn local_closures() {
    let (y, (gx, gy, gxs)) = closures_grad(0.4, -0.7, &XS);
    close("value", y, closures(0.4, -0.7, &XS), TOL);
    fd2(
        "closures",
        |a, b| closures(a, b, &XS),
        (0.4, -0.7),
        (gx, gy),
    );
    // ∂xsᵢ = x·(1 − tanh²(x·xsᵢ)).
    close_all(
        "∂xs",
        &gxs,
        &XS.map(|t| 0.4 * (1.0 - (0.4 * t).tanh().powi(2))),
    );
    let (y, g) = for_each_sum_grad(&XS);
    close("value", y, for_each_sum(&XS), TOL);
    close_all("∂x", &g, &XS.map(|x| 2.0 * x));
}

// ---------------------------------------------------------------------------------------------
// Generic functions, Option and match, loops with float conditions, early returns.
// ---------------------------------------------------------------------------------------------

/// Horner's rule over a generic float.
#[differentiate]
fn horner_generic<T: Float>(x: T, c: &[T]) -> T {
    let mut acc = T::zero();
    for &ci in c.iter().rev() {
        acc = acc * x + ci;
    }
    acc
}

/// Softmax cross-entropy over a generic float, with a constant from `T::from`.
#[differentiate]
fn cross_entropy_generic<T: Float>(logits: &[T], target: usize) -> T {
    let m = logits.iter().fold(T::neg_infinity(), |a, &b| a.max(b));
    let z = logits
        .iter()
        .map(|&v| (v - m).exp())
        .fold(T::zero(), |a, b| a + b);
    let half = T::from(0.5).unwrap();
    m + z.ln() - logits[target] + half * T::epsilon()
}

#[test]
fn generic_objectives() {
    let (y, (gx, gc)) = horner_generic_grad(0.7, &XS);
    close("value", y, horner_generic(0.7, &XS), TOL);
    // p'(x) = Σ i·cᵢ·x^(i−1); ∂cᵢ = xⁱ.
    let dp: f64 = (1..5)
        .map(|i| i as f64 * XS[i] * 0.7f64.powi(i as i32 - 1))
        .sum();
    close("∂x", gx, dp, TOL);
    close_all("∂c", &gc, &[1.0, 0.7, 0.49, 0.343, 0.2401]);
    let (y, g) = cross_entropy_generic_grad(&XS, 2);
    close("value", y, cross_entropy_generic(&XS, 2), TOL);
    // softmax − one-hot.
    let z: f64 = XS.iter().map(|v| v.exp()).sum();
    let expected: Vec<f64> = (0..5)
        .map(|i| XS[i].exp() / z - if i == 2 { 1.0 } else { 0.0 })
        .collect();
    close_all("∂logits", &g, &expected);
}

#[derive(Clone, Copy)]
enum Loss {
    Squared,
    Huber(f64),
    LogCosh,
}

/// A loss picked by an enum of configuration with a float in a variant.
#[differentiate(wrt(r))]
fn pick_loss(r: f64, kind: Loss) -> f64 {
    match kind {
        Loss::Squared => r * r,
        Loss::Huber(d) => {
            if r.abs() < d {
                0.5 * r * r
            } else {
                d * (r.abs() - 0.5 * d)
            }
        }
        Loss::LogCosh => r.cosh().ln(),
    }
}

/// A regularizer that may be off: an `Option` parameter is data by default (it has no gradient
/// type; with the default activity it was rustc's "`Option<f64>` cannot be differentiated").
#[differentiate]
fn regularized(x: f64, lambda: Option<f64>) -> f64 {
    let mut l = (x - 1.0).powi(2);
    if let Some(lam) = lambda {
        l += lam * x * x;
    }
    l
}

#[test]
fn configuration_in_enums_and_options() {
    let r = 0.8;
    for (kind, d) in [
        (Loss::Squared, 2.0 * r),
        (Loss::Huber(0.5), 0.5),
        (Loss::Huber(2.0), r),
        (Loss::LogCosh, r.tanh()),
    ] {
        let (y, g) = pick_loss_grad(r, kind);
        close("value", y, pick_loss(r, kind), TOL);
        close("∂r", g, d, TOL);
    }
    let (_, g) = regularized_grad(0.4, Some(0.3));
    close("∂x", g, 2.0 * (0.4 - 1.0) + 0.6 * 0.4, TOL);
    let (_, g) = regularized_grad(0.4, None);
    close("∂x", g, 2.0 * (0.4 - 1.0), TOL);
}

/// Kepler's equation E = M + e·sin E by fixed-point iteration to convergence.
#[differentiate]
fn kepler(m: f64, e: f64) -> f64 {
    let mut ecc = m;
    let mut prev = f64::INFINITY;
    while (ecc - prev).abs() > 1e-14 {
        prev = ecc;
        ecc = m + e * ecc.sin();
    }
    ecc
}

/// Halving while above 1, then scaling by the count.
#[differentiate]
fn halvings(x: f64) -> f64 {
    let mut y = x;
    let mut n = 0;
    while y > 1.0 {
        y /= 2.0;
        n += 1;
    }
    y * (n as f64 + 1.0)
}

#[test]
fn loops_on_float_conditions() {
    let (m, e) = (1.0, 0.3);
    let (big_e, g) = kepler_grad(m, e);
    close("value", big_e, kepler(m, e), TOL);
    // Implicit: ∂E/∂M = 1/(1 − e cos E), ∂E/∂e = sin E/(1 − e cos E).
    let den = 1.0 - e * big_e.cos();
    close("∂M", g.0, 1.0 / den, 1e-10);
    close("∂e", g.1, big_e.sin() / den, 1e-10);
    let (y, g) = halvings_grad(5.3);
    close("value", y, halvings(5.3), TOL);
    close("∂x", g, 4.0 / 8.0, TOL);
}

/// Early returns from the body and from inside a loop.
#[differentiate]
fn first_large(x: &[f64], t: f64) -> f64 {
    if t < 0.0 {
        return t * t;
    }
    for &v in x {
        if v * t > 1.0 {
            return v * t;
        }
    }
    t.sqrt()
}

#[test]
fn early_returns() {
    for t in [-0.5, 1.5, 0.2] {
        let (y, (gx, gt)) = first_large_grad(&XS, t);
        close("value", y, first_large(&XS, t), TOL);
        fd("first_large t", |t| first_large(&XS, t), t, gt);
        fd_vec("first_large x", |v| first_large(v, t), &XS, &gx);
    }
    // t = 1.5: 1.2·t is the first above 1: ∂t = 1.2, ∂x₂ = 1.5.
    let (_, (gx, gt)) = first_large_grad(&XS, 1.5);
    close("∂t", gt, 1.2, TOL);
    close_all("∂x", &gx, &[0.0, 0.0, 1.5, 0.0, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// Helpers, constants, tuples, casts.
// ---------------------------------------------------------------------------------------------

#[differentiate]
fn sq(x: f64) -> f64 {
    x * x
}

#[differentiate]
fn norm2(x: f64, y: f64) -> f64 {
    (sq(x) + sq(y)).sqrt()
}

#[differentiate]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

const G: f64 = 9.81;

/// Helpers calling helpers, a tuple taken apart, constants: (‖(x, y)‖ − 1)² + period + x'·y'.
#[differentiate]
fn helpers(x: f64, y: f64) -> f64 {
    let (px, py) = polar(x, y);
    sq(norm2(x, y) - 1.0) + 2.0 * PI * (x / G).sqrt() + px * py * std::f64::consts::FRAC_1_SQRT_2
}

/// `as` casts between f32 and f64 and from counts: mean of sin(x·i) computed in f32.
#[differentiate]
fn casts(x: f64, n: usize) -> f64 {
    let xf = x as f32;
    let mut s = 0.0;
    for i in 0..n {
        s += (xf * i as f32).sin() as f64;
    }
    s / n as f64
}

#[test]
fn helpers_constants_tuples_and_casts() {
    let (x, y) = (0.8, 0.4);
    let (v, g) = helpers_grad(x, y);
    close("value", v, helpers(x, y), TOL);
    fd2("helpers", helpers, (x, y), g);
    let (v, g) = casts_grad(0.3, 5);
    close("value", v, casts(0.3, 5), TOL);
    let expected: f64 = (0..5)
        .map(|i| i as f64 * (0.3 * i as f64).cos())
        .sum::<f64>()
        / 5.0;
    close("∂x", g, expected, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// Numerical objectives.
// ---------------------------------------------------------------------------------------------

/// The log-sum-exp with the maximum subtracted; its gradient is the softmax.
#[differentiate]
fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

/// The softmax as a `Vec`.
#[differentiate]
fn softmax(x: &[f64]) -> Vec<f64> {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = x.iter().map(|&v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    e.iter().map(|v| v / s).collect()
}

/// Mean cross-entropy over rows of a flat logit matrix.
#[differentiate(wrt(logits))]
fn cross_entropy(logits: &[f64], labels: &[usize], classes: usize) -> f64 {
    let mut loss = 0.0;
    for (row, &y) in logits.chunks(classes).zip(labels) {
        let m = row.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = row.iter().map(|v| (v - m).exp()).sum();
        loss += m + z.ln() - row[y];
    }
    loss / labels.len() as f64
}

#[test]
fn softmax_family() {
    let (y, g) = log_sum_exp_grad(&XS);
    close("value", y, log_sum_exp(&XS), TOL);
    let sm = softmax(&XS);
    close_all("∂x", &g, &sm);
    // The pullback of the softmax for the cotangent e₀ + 2e₄: J^T w = s ⊙ (w − ⟨s, w⟩).
    let (s, pb) = softmax_vjp(&XS);
    close_all("value", &s, &sm);
    let w = [1.0, 0.0, 0.0, 0.0, 2.0];
    let sw: f64 = (0..5).map(|i| sm[i] * w[i]).sum();
    let expected: Vec<f64> = (0..5).map(|i| sm[i] * (w[i] - sw)).collect();
    close_all("vjp", &pb(w.to_vec()), &expected);
    let logits = [0.1, 0.5, -0.3, 1.2, 0.0, -0.4];
    let (y, g) = cross_entropy_grad(&logits, &[1, 0], 3);
    close("value", y, cross_entropy(&logits, &[1, 0], 3), TOL);
    fd_vec(
        "cross entropy",
        |l| cross_entropy(l, &[1, 0], 3),
        &logits,
        &g,
    );
}

/// Huber loss summed over pairs.
#[differentiate]
fn huber(pred: &[f64], target: &[f64], delta: f64) -> f64 {
    pred.iter()
        .zip(target)
        .map(|(p, t)| {
            let r = (p - t).abs();
            if r <= delta {
                0.5 * r * r
            } else {
                delta * (r - 0.5 * delta)
            }
        })
        .sum()
}

#[test]
fn huber_loss() {
    let (y, (gp, _, gd)) = huber_grad(&XS, &YS, 0.5);
    close("value", y, huber(&XS, &YS, 0.5), TOL);
    // ∂pᵢ = rᵢ inside the band, δ·sign(rᵢ) outside.
    let expected: Vec<f64> = (0..5)
        .map(|i| {
            let r = XS[i] - YS[i];
            if r.abs() <= 0.5 { r } else { 0.5 * r.signum() }
        })
        .collect();
    close_all("∂pred", &gp, &expected);
    fd("huber δ", |d| huber(&XS, &YS, d), 0.5, gd);
}

/// Euler integration of y' = −k·y + sin t until t = 1, with a float loop condition.
#[differentiate]
fn euler(k: f64, y0: f64) -> f64 {
    let dt = 0.01;
    let mut y = y0;
    let mut t = 0.0;
    while t < 1.0 {
        y += dt * (-k * y + t.sin());
        t += dt;
    }
    y
}

/// RK4 on y' = −k·y² with the right-hand side as a closure capturing `k`.
#[differentiate]
fn rk4(k: f64, y0: f64) -> f64 {
    let f = |y: f64| -k * y * y;
    let h = 0.1;
    let mut y = y0;
    for _ in 0..10 {
        let k1 = f(y);
        let k2 = f(y + 0.5 * h * k1);
        let k3 = f(y + 0.5 * h * k2);
        let k4 = f(y + h * k3);
        y += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }
    y
}

#[test]
fn ode_integrators() {
    let (y, g) = euler_grad(0.8, 1.0);
    close("value", y, euler(0.8, 1.0), TOL);
    fd2("euler", euler, (0.8, 1.0), g);
    let (y, g) = rk4_grad(0.8, 1.0);
    close("value", y, rk4(0.8, 1.0), TOL);
    fd2("rk4", rk4, (0.8, 1.0), g);
    // The exact solution y = y₀/(1 + k·y₀·t) at t = 1: ∂k ≈ −y₀²/(1 + k y₀)², to RK4's error.
    close("∂k", g.0, -1.0 / 1.8f64.powi(2), 1e-5);
}

/// Spring-chain energy, with `&[f64]` positions.
#[differentiate]
fn chain_energy(pos: &[f64], k: f64) -> f64 {
    let mut e = 0.0;
    for i in 1..pos.len() {
        let d = pos[i] - pos[i - 1] - 1.0;
        e += 0.5 * k * d * d;
    }
    e
}

/// A projectile with quadratic drag over time steps.
#[differentiate]
fn projectile(v0: f64, angle: f64, drag: f64) -> f64 {
    let (mut x, mut y) = (0.0, 0.0);
    let (mut vx, mut vy) = (v0 * angle.cos(), v0 * angle.sin());
    let dt = 0.01;
    for _ in 0..100 {
        let speed = (vx * vx + vy * vy).sqrt();
        vx -= drag * speed * vx * dt;
        vy -= (G + drag * speed * vy) * dt;
        x += vx * dt;
        y += vy * dt;
    }
    x + 0.1 * y
}

#[test]
fn physics() {
    let (y, (gp, gk)) = chain_energy_grad(&XS, 2.0);
    close("value", y, chain_energy(&XS, 2.0), TOL);
    close("∂k", gk, y / 2.0, TOL);
    fd_vec("chain", |p| chain_energy(p, 2.0), &XS, &gp);
    let (y, (gv, ga, gd)) = projectile_grad(10.0, 0.7, 0.05);
    close("value", y, projectile(10.0, 0.7, 0.05), TOL);
    fd2(
        "projectile",
        |v, a| projectile(v, a, 0.05),
        (10.0, 0.7),
        (gv, ga),
    );
    fd("projectile drag", |d| projectile(10.0, 0.7, d), 0.05, gd);
}

/// Least squares on data pairs: ∂a = 2Σ(ax + b − y)x/n, ∂b = 2Σ(ax + b − y)/n.
#[differentiate(wrt(a, b))]
fn least_squares(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    xs.iter()
        .zip(ys)
        .map(|(x, y)| (a * x + b - y).powi(2))
        .sum::<f64>()
        / xs.len() as f64
}

/// The same on a slice of tuples.
#[differentiate(wrt(a, b))]
fn least_squares_pairs(a: f64, b: f64, data: &[(f64, f64)]) -> f64 {
    data.iter()
        .map(|&(x, y)| (a * x + b - y).powi(2))
        .sum::<f64>()
        / data.len() as f64
}

#[test]
fn least_squares_fits() {
    let (a, b) = (0.5, 0.1);
    let (y, g) = least_squares_grad(a, b, &XS, &YS);
    close("value", y, least_squares(a, b, &XS, &YS), TOL);
    let r: Vec<f64> = (0..5).map(|i| a * XS[i] + b - YS[i]).collect();
    let da = 2.0 * (0..5).map(|i| r[i] * XS[i]).sum::<f64>() / 5.0;
    let db = 2.0 * r.iter().sum::<f64>() / 5.0;
    close2("gradient", g, (da, db));
    let pairs: Vec<(f64, f64)> = XS.iter().copied().zip(YS).collect();
    let (y2, g2) = least_squares_pairs_grad(a, b, &pairs);
    close("value", y2, y, TOL);
    close2("pairs", g2, (da, db));
}

/// Logistic regression over a flat feature matrix.
#[differentiate(wrt(w, b))]
fn logistic(w: &[f64], b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let d = w.len();
    let mut loss = 0.0;
    for (i, &y) in ys.iter().enumerate() {
        let x = &xs[i * d..(i + 1) * d];
        let z: f64 = w.iter().zip(x).map(|(wi, xi)| wi * xi).sum::<f64>() + b;
        let p = 1.0 / (1.0 + (-z).exp());
        loss -= y * p.ln() + (1.0 - y) * (1.0 - p).ln();
    }
    loss
}

#[test]
fn logistic_regression() {
    let w = [0.3, -0.2];
    let xs = [0.5, 1.0, -0.3, 0.2, 0.8, -1.1];
    let ys = [1.0, 0.0, 1.0];
    let (y, (gw, gb)) = logistic_grad(&w, 0.1, &xs, &ys);
    close("value", y, logistic(&w, 0.1, &xs, &ys), TOL);
    // ∂w = Σ (pᵢ − yᵢ)·xᵢ, ∂b = Σ (pᵢ − yᵢ).
    let mut ew = [0.0; 2];
    let mut eb = 0.0;
    for i in 0..3 {
        let z = w[0] * xs[2 * i] + w[1] * xs[2 * i + 1] + 0.1;
        let p = 1.0 / (1.0 + (-z).exp());
        ew[0] += (p - ys[i]) * xs[2 * i];
        ew[1] += (p - ys[i]) * xs[2 * i + 1];
        eb += p - ys[i];
    }
    close_all("∂w", &gw, &ew);
    close("∂b", gb, eb, TOL);
}

/// Soft k-means: each point's squared distances weighted by a softmax of −β·distance.
#[differentiate(wrt(centers))]
fn soft_kmeans(centers: &[f64], points: &[f64], beta: f64) -> f64 {
    let mut total = 0.0;
    for &p in points {
        let d: Vec<f64> = centers.iter().map(|c| (p - c).powi(2)).collect();
        let w: Vec<f64> = d.iter().map(|di| (-beta * di).exp()).collect();
        let z: f64 = w.iter().sum();
        total += d.iter().zip(&w).map(|(di, wi)| di * wi / z).sum::<f64>();
    }
    total
}

#[test]
fn soft_k_means() {
    let c = [-0.5, 0.4, 1.3];
    let (y, g) = soft_kmeans_grad(&c, &XS, 2.0);
    close("value", y, soft_kmeans(&c, &XS, 2.0), TOL);
    fd_vec("soft k-means", |c| soft_kmeans(c, &XS, 2.0), &c, &g);
}

// ---------------------------------------------------------------------------------------------
// Structs with methods.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Linear {
    w: Vec<f64>,
    b: f64,
}

impl Linear {
    #[differentiate]
    fn predict(&self, x: &[f64]) -> f64 {
        self.w.iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.b
    }

    #[differentiate(wrt(self))]
    fn loss(&self, data: &[(Vec<f64>, f64)]) -> f64 {
        let mut l = 0.0;
        for (x, y) in data {
            let r = self.predict(x) - y;
            l += r * r;
        }
        l / data.len() as f64
    }
}

#[test]
fn a_model_struct_with_methods() {
    let lin = Linear {
        w: vec![0.5, -0.3],
        b: 0.1,
    };
    let data = vec![
        (vec![1.0, 2.0], 0.5),
        (vec![-1.0, 0.5], -0.2),
        (vec![0.3, 0.3], 1.0),
    ];
    let (y, g) = Linear::loss_grad(&lin, &data);
    close("value", y, lin.loss(&data), TOL);
    // ∂w = 2/n Σ rᵢ xᵢ, ∂b = 2/n Σ rᵢ.
    let mut ew = [0.0; 2];
    let mut eb = 0.0;
    for (x, t) in &data {
        let r = lin.predict(x) - t;
        ew[0] += 2.0 * r * x[0] / 3.0;
        ew[1] += 2.0 * r * x[1] / 3.0;
        eb += 2.0 * r / 3.0;
    }
    close_all("∂w", &g.w, &ew);
    close("∂b", g.b, eb, TOL);
}

#[derive(Clone, Copy, Differentiable)]
struct P2 {
    x: f64,
    y: f64,
}

impl P2 {
    #[differentiate]
    fn dist(&self, other: &P2) -> f64 {
        ((self.x - other.x).powi(2) + (self.y - other.y).powi(2)).sqrt()
    }
}

#[derive(Clone, Differentiable)]
struct Polygon {
    pts: Vec<P2>,
}

impl Polygon {
    /// The shoelace formula: ∂xᵢ = ½(yᵢ₊₁ − yᵢ₋₁), ∂yᵢ = ½(xᵢ₋₁ − xᵢ₊₁).
    #[differentiate]
    fn area(&self) -> f64 {
        let n = self.pts.len();
        let mut a = 0.0;
        for i in 0..n {
            let p = &self.pts[i];
            let q = &self.pts[(i + 1) % n];
            a += p.x * q.y - q.x * p.y;
        }
        0.5 * a
    }

    #[differentiate]
    fn perimeter(&self) -> f64 {
        let n = self.pts.len();
        (0..n)
            .map(|i| self.pts[i].dist(&self.pts[(i + 1) % n]))
            .sum()
    }
}

#[test]
fn a_polygon_of_points() {
    let poly = Polygon {
        pts: vec![
            P2 { x: 0.0, y: 0.0 },
            P2 { x: 1.0, y: 0.2 },
            P2 { x: 0.3, y: 1.1 },
            P2 { x: -0.5, y: 0.6 },
        ],
    };
    let (a, g) = Polygon::area_grad(&poly);
    close("value", a, poly.area(), TOL);
    for i in 0..4 {
        let (prev, next) = (&poly.pts[(i + 3) % 4], &poly.pts[(i + 1) % 4]);
        close("∂x", g.pts[i].x, 0.5 * (next.y - prev.y), TOL);
        close("∂y", g.pts[i].y, 0.5 * (prev.x - next.x), TOL);
    }
    let (p, g) = Polygon::perimeter_grad(&poly);
    close("value", p, poly.perimeter(), TOL);
    let flat: Vec<f64> = poly.pts.iter().flat_map(|p| [p.x, p.y]).collect();
    let gflat: Vec<f64> = g.pts.iter().flat_map(|p| [p.x, p.y]).collect();
    let rebuild = |f: &[f64]| Polygon {
        pts: f.chunks(2).map(|c| P2 { x: c[0], y: c[1] }).collect(),
    };
    fd_vec("perimeter", |f| rebuild(f).perimeter(), &flat, &gflat);
}

#[derive(Clone, Differentiable)]
struct Dense {
    w: Vec<f64>,
    b: Vec<f64>,
}

impl Dense {
    #[differentiate]
    fn forward(&self, x: &[f64]) -> Vec<f64> {
        let nin = x.len();
        self.b
            .iter()
            .enumerate()
            .map(|(j, bj)| {
                let mut z = *bj;
                for i in 0..nin {
                    z += self.w[j * nin + i] * x[i];
                }
                z.tanh()
            })
            .collect()
    }
}

#[differentiate(wrt(layer))]
fn dense_loss(layer: &Dense, x: &[f64], target: &[f64]) -> f64 {
    let y = layer.forward(x);
    y.iter().zip(target).map(|(a, b)| (a - b).powi(2)).sum()
}

#[test]
fn a_dense_layer_returning_a_vec() {
    let layer = Dense {
        w: vec![0.1, -0.2, 0.3, 0.4, -0.5, 0.6],
        b: vec![0.0, 0.1, -0.1],
    };
    let (x, t) = ([0.7, -0.4], [0.1, 0.2, 0.3]);
    let (y, g) = dense_loss_grad(&layer, &x, &t);
    close("value", y, dense_loss(&layer, &x, &t), TOL);
    // ∂bⱼ = 2(yⱼ − tⱼ)(1 − yⱼ²), ∂wⱼᵢ = ∂bⱼ·xᵢ.
    let out = layer.forward(&x);
    let db: Vec<f64> = (0..3)
        .map(|j| 2.0 * (out[j] - t[j]) * (1.0 - out[j] * out[j]))
        .collect();
    close_all("∂b", &g.b, &db);
    let dw: Vec<f64> = (0..6).map(|k| db[k / 2] * x[k % 2]).collect();
    close_all("∂w", &g.w, &dw);
}

// ---------------------------------------------------------------------------------------------
// Fields of the items of `iter_mut`: written back into the container. (Before the writes were
// followed through the item, assigning its field made a new local version of it, and the
// container kept the old value: a wrong value and gradient without an error.)
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

/// Two particles, (a, 1) and (2a, −1), one damped drift step: x' = x + 0.1v, v' = 0.9v;
/// Σ x'v' = 0.9(a + 0.1) − 0.9(2a − 0.1) = −0.9a + 0.18: ∂a = −0.9.
#[differentiate]
fn drift_iter_mut(a: f64) -> f64 {
    let mut ps = vec![
        P2 { x: a, y: 1.0 },
        P2 {
            x: 2.0 * a,
            y: -1.0,
        },
    ];
    for p in ps.iter_mut() {
        p.x += p.y * 0.1;
        p.y *= 0.9;
    }
    ps.iter().map(|p| p.x * p.y).sum()
}

/// `for p in &mut ps` with the step scaled by `a`: x' = x + a·v;
/// Σ x'v = (a + a) − (2a − a) = a: ∂a = 1.
#[differentiate]
fn drift_mut_ref(a: f64) -> f64 {
    let mut ps = vec![
        Particle { x: a, v: 1.0 },
        Particle {
            x: 2.0 * a,
            v: -1.0,
        },
    ];
    for p in &mut ps {
        p.x += p.v * a;
    }
    ps.iter().map(|p| p.x * p.v).sum()
}

/// `iter_mut().for_each(..)`, and an item passed on to another name (`let q = p;`):
/// x' = a·x = (a², 2a²), then v' = v + x' = (1 + a², −1 + 2a²);
/// Σ x'v' = a² + a⁴ − 2a² + 4a⁴ = 5a⁴ − a², ∂a = 20a³ − 2a.
#[differentiate]
fn for_each_items(a: f64) -> f64 {
    let mut ps = vec![
        Particle { x: a, v: 1.0 },
        Particle {
            x: 2.0 * a,
            v: -1.0,
        },
    ];
    ps.iter_mut().for_each(|p| p.x *= a);
    for p in ps.iter_mut() {
        let q = p;
        q.v += q.x;
    }
    ps.iter().map(|p| p.x * p.v).sum()
}

#[test]
fn fields_of_iter_mut_items_are_written_back() {
    let a = 0.7;
    let (y, g) = drift_iter_mut_grad(a);
    close("value", y, drift_iter_mut(a), TOL);
    close("value", y, -0.9 * a + 0.18, TOL);
    close("∂a", g, -0.9, TOL);
    let (y, g) = drift_mut_ref_grad(a);
    close("value", y, drift_mut_ref(a), TOL);
    close("value", y, a, TOL);
    close("∂a", g, 1.0, TOL);
    let (y, g) = for_each_items_grad(a);
    close("value", y, for_each_items(a), TOL);
    close("value", y, 5.0 * a.powi(4) - a * a, TOL);
    close("∂a", g, 20.0 * a.powi(3) - 2.0 * a, TOL);
    fd("for_each_items", for_each_items, a, g);
}

#[derive(Clone, Debug, Differentiable)]
struct Moments {
    total: f64,
    sq: f64,
}

/// A struct's fields accumulated by a closure given to `for_each`: with uᵢ = w·xᵢ,
/// Σu² − (Σu)²/n, ∂w = (2Σx² w) − 2w(Σx)²/n.
#[differentiate]
fn moments_by_closure(x: &[f64], w: f64) -> f64 {
    let mut s = Moments {
        total: 0.0,
        sq: 0.0,
    };
    x.iter().for_each(|v| {
        s.total += v * w;
        s.sq += (v * w).powi(2);
    });
    s.sq - s.total * s.total / x.len() as f64
}

/// A checkpointed loop carrying a struct whose fields it assigns.
#[differentiate]
fn checkpointed_fields(x0: f64, k: f64) -> f64 {
    let mut s = State { x: x0, v: 0.0 };
    #[checkpoint(snapshots = 3)]
    for _ in 0..20 {
        s.v -= k * s.x * 0.05;
        s.x += s.v * 0.05;
    }
    s.x * s.x + s.v
}

#[test]
fn fields_assigned_by_closures_and_in_checkpointed_loops() {
    let w = 0.7;
    let (y, (_, gw)) = moments_by_closure_grad(&XS, w);
    close("value", y, moments_by_closure(&XS, w), TOL);
    let (s1, s2): (f64, f64) = (XS.iter().sum(), XS.iter().map(|x| x * x).sum());
    close("∂w", gw, 2.0 * s2 * w - 2.0 * w * s1 * s1 / 5.0, TOL);
    let (y, g) = checkpointed_fields_grad(1.0, 2.0);
    close("value", y, checkpointed_fields(1.0, 2.0), TOL);
    fd2("checkpointed fields", checkpointed_fields, (1.0, 2.0), g);
}

/// `if let Some(v) = x.first().copied()` (`get(i).cloned()`): the test and the element read.
/// 2x₀ + x₁² with the defaults past the end: ∂x₀ = 2, ∂x₁ = 2x₁.
#[differentiate]
fn copied_options(x: &[f64]) -> f64 {
    let a = if let Some(v) = x.first().copied() {
        2.0 * v
    } else {
        0.0
    };
    let b = if let Some(v) = x.get(1).cloned() {
        v * v
    } else {
        -1.0
    };
    a + b
}

#[test]
fn if_let_on_copied_element_options() {
    let (y, g) = copied_options_grad(&XS);
    close("value", y, copied_options(&XS), TOL);
    close_all("∂x", &g, &[2.0, 2.0 * XS[1], 0.0, 0.0, 0.0]);
    let (y, g) = copied_options_grad(&[0.4]);
    close("value", y, 0.8 - 1.0, TOL);
    close_all("∂x", &g, &[2.0]);
}

/// Piecewise-linear interpolation with the interval found by `binary_search_by`, which reads
/// `t` in its comparisons: its result is a position (discrete), matched with bindings used as
/// indices. ∂yᵢ = 1 − f, ∂yᵢ₊₁ = f, ∂t = (yᵢ₊₁ − yᵢ)/(kᵢ₊₁ − kᵢ).
#[differentiate(wrt(ys, t))]
fn interpolate(knots: &[f64], ys: &[f64], t: f64) -> f64 {
    let i = match knots.binary_search_by(|k| k.partial_cmp(&t).unwrap()) {
        Ok(i) => i,
        Err(i) => i - 1,
    };
    let f = (t - knots[i]) / (knots[i + 1] - knots[i]);
    ys[i] * (1.0 - f) + ys[i + 1] * f
}

#[test]
fn a_position_found_by_binary_search() {
    let knots = [0.0, 1.0, 2.5, 3.0];
    let ys = [0.0, 2.0, 1.0, 5.0];
    let (y, (gy, gt)) = interpolate_grad(&knots, &ys, 1.75);
    close("value", y, interpolate(&knots, &ys, 1.75), TOL);
    close_all("∂ys", &gy, &[0.0, 0.5, 0.5, 0.0]);
    close("∂t", gt, (1.0 - 2.0) / 1.5, TOL);
    fd("interpolate t", |t| interpolate(&knots, &ys, t), 1.75, gt);
}
