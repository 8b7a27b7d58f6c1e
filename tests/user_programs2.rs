//! More programs as people fitting models write them, each the smallest form of a class that
//! once failed to compile inside the generated code: a local `Vec` of parameter structs built
//! with `push` (or `vec![s; n]`) and mutated; the user's methods called on the elements of such
//! a `Vec`; and a float state that starts as an unsuffixed literal and is combined by a float
//! method written as a path (`fold(0.0, f64::max)`, `best = f64::max(best, v)`); a float
//! trait's method called through the trait (`Float::max(x, y)`); the methods of the elements
//! of a slice of structs taken as a parameter; a closure whose declared result type types its
//! body (`|a, b| -> f64 { .. .sum() }`).
//!
//! Each gradient is checked against the analytic one (stated beside the function) and against
//! central finite differences through `autodiff::check`.

#![allow(clippy::needless_range_loop, clippy::useless_vec)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

/// Checks `d` against central differences of `f` at `x`.
#[track_caller]
fn fd_vec(what: &str, f: impl Fn(&[f64]) -> f64, x: &[f64], d: &[f64]) {
    let r = gradcheck(|p: &Vec<f64>| f(p), &x.to_vec(), &d.to_vec());
    assert!(r.passed(), "{what}: {r}");
}

// ---------------------------------------------------------------------------------------------
// A local `Vec` of parameter structs, built with `push` and changed like a `Vec` of floats.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Particle {
    x: f64,
    v: f64,
}

/// pᵢ = (x₀ + i, k·x₀) for i < 3; e = Σ k·xᵢ² + vᵢ² = k Σ (x₀ + i)² + 3k²x₀²:
/// ∂k = Σ (x₀ + i)² + 6k·x₀², ∂x₀ = 2k Σ (x₀ + i) + 6k²·x₀.
#[differentiate]
fn particles(k: f64, x0: f64) -> f64 {
    let mut ps = Vec::new();
    for i in 0..3 {
        ps.push(Particle {
            x: x0 + i as f64,
            v: k * x0,
        });
    }
    let mut e = 0.0;
    for p in &ps {
        e += k * p.x * p.x + p.v * p.v;
    }
    e
}

#[test]
fn a_local_vec_of_structs_built_with_push() {
    let (k, x0) = (0.7, 0.2);
    let (y, (dk, dx)) = particles_grad(k, x0);
    close("value", y, particles(k, x0), TOL);
    let s2: f64 = (0..3).map(|i| (x0 + i as f64).powi(2)).sum();
    let s1: f64 = (0..3).map(|i| x0 + i as f64).sum();
    close("∂k", dk, s2 + 6.0 * k * x0 * x0, TOL);
    close("∂x₀", dx, 2.0 * k * s1 + 6.0 * k * k * x0, TOL);
    fd2("particles", particles, (k, x0), (dk, dx));
}

#[differentiate]
fn kinetic(b: &Particle) -> f64 {
    0.5 * b.v * b.v + b.x.cos()
}

/// Every mutation the place model follows on a `Vec` of floats, on a `Vec` of structs:
/// `pop`, `insert`, `remove`, `swap`, element reads by index, `last()`, iteration and a
/// differentiated call on an element.
#[differentiate(wrt(x0, v0))]
fn struct_vec_mutations(x0: f64, v0: f64, n: usize) -> f64 {
    let mut ps: Vec<Particle> = Vec::with_capacity(n);
    for i in 0..n {
        let t = i as f64 * 0.1;
        ps.push(Particle {
            x: x0 + v0 * t,
            v: v0 * (1.0 + t),
        });
    }
    let last = ps.pop().unwrap();
    ps.insert(
        1,
        Particle {
            x: last.v,
            v: last.x * x0,
        },
    );
    let removed = ps.remove(0);
    ps.swap(0, 1);
    let mut e = removed.x * removed.v;
    for (i, p) in ps.iter().enumerate() {
        e += (i as f64 + 1.0) * p.x * p.v.sin();
    }
    e += ps[0].x + ps.last().unwrap().v;
    e += ps.iter().map(|p| p.x * p.x).sum::<f64>();
    e + kinetic(&ps[1])
}

/// The same function on plain variables: after the pushes pᵢ = (x₀ + v₀tᵢ, v₀(1 + tᵢ)),
/// `pop` takes p₄, `insert(1, q)` with q = (p₄.v, p₄.x·x₀), `remove(0)` takes p₀, and `swap`
/// leaves [p₁, q, p₂, p₃].
fn struct_vec_by_hand(x0: f64, v0: f64) -> f64 {
    let p = |i: usize| {
        let t = i as f64 * 0.1;
        (x0 + v0 * t, v0 * (1.0 + t))
    };
    let q = (p(4).1, p(4).0 * x0);
    let rest = [p(1), q, p(2), p(3)];
    let mut e = p(0).0 * p(0).1;
    for (i, (x, v)) in rest.iter().enumerate() {
        e += (i as f64 + 1.0) * x * v.sin() + x * x;
    }
    e + rest[0].0 + rest[3].1 + 0.5 * q.1 * q.1 + q.0.cos()
}

#[test]
fn a_local_vec_of_structs_is_mutated_like_a_vec_of_floats() {
    let (x0, v0) = (0.3, -0.8);
    let (y, (dx, dv)) = struct_vec_mutations_grad(x0, v0, 5);
    close("value", y, struct_vec_by_hand(x0, v0), TOL);
    // The hand-written function's gradient by central differences of the same function.
    fd2("by hand", struct_vec_by_hand, (x0, v0), (dx, dv));
    fd2(
        "struct_vec_mutations",
        |a, b| struct_vec_mutations(a, b, 5),
        (x0, v0),
        (dx, dv),
    );
}

/// `vec![s; 3]` of a struct (each element a copy) and elements replaced whole:
/// total = x₀ + 0 + x₀² + sin x₀ + 3x₀ + 0; d = 4 + 2x₀ + cos x₀.
#[differentiate]
fn struct_vec_repeated(x0: f64) -> f64 {
    let mut ps = vec![Particle { x: x0, v: 0.0 }; 3];
    ps[1] = Particle {
        x: x0 * x0,
        v: x0.sin(),
    };
    ps[2] = Particle {
        x: 3.0 * x0,
        v: ps[2].v,
    };
    let total: f64 = ps.iter().map(|p| p.x + p.v).sum();
    total
}

#[test]
fn a_vec_of_copies_of_a_struct() {
    let x0 = 0.4;
    let (y, d) = struct_vec_repeated_grad(x0);
    close("value", y, 4.0 * x0 + x0 * x0 + x0.sin(), TOL);
    close("d", d, 4.0 + 2.0 * x0 + x0.cos(), TOL);
    fd("struct_vec_repeated", struct_vec_repeated, x0, d);
}

// ---------------------------------------------------------------------------------------------
// The user's methods on the elements of a local `Vec` of structs.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Neuron {
    w: f64,
    b: f64,
}

impl Neuron {
    #[differentiate]
    fn fire(&self, x: f64) -> f64 {
        (self.w * x + self.b).tanh()
    }
}

/// Three neurons wₖ = s(k + 1), b = 0.1s applied in turn: hₖ₊₁ = tanh(wₖhₖ + b), h₀ = x.
#[differentiate]
fn pushed_layers(s: f64, x: f64) -> f64 {
    let mut layers = Vec::new();
    for k in 0..3 {
        layers.push(Neuron {
            w: s * (k as f64 + 1.0),
            b: 0.1 * s,
        });
    }
    let mut h = x;
    for l in &layers {
        h = l.fire(h);
    }
    h
}

/// The same layers from a declared `Vec<Neuron>` and from `vec![..]`, read by index and by
/// `iter().fold`.
#[differentiate]
fn declared_layers(s: f64, x: f64) -> f64 {
    let mut layers: Vec<Neuron> = Vec::new();
    for k in 0..3 {
        layers.push(Neuron {
            w: s * (k as f64 + 1.0),
            b: 0.1 * s,
        });
    }
    let first = layers[0].fire(x);
    let rest = vec![layers[1].clone(), layers[2].clone()];
    rest.iter().fold(first, |h, l| l.fire(h))
}

/// hₖ₊₁ = tanh(aₖ), aₖ = wₖhₖ + b: ∂h/∂x = Π (1 − hₖ₊₁²)wₖ, and ∂hₖ₊₁/∂s = (1 − hₖ₊₁²)·
/// ((k + 1)hₖ + wₖ∂hₖ/∂s + 0.1), in forward mode.
fn layers_by_hand(s: f64, x: f64) -> (f64, f64, f64) {
    let (mut h, mut dhs, mut dhx) = (x, 0.0, 1.0);
    for k in 0..3 {
        let w = s * (k as f64 + 1.0);
        let t = (w * h + 0.1 * s).tanh();
        let g = 1.0 - t * t;
        dhs = g * ((k as f64 + 1.0) * h + w * dhs + 0.1);
        dhx *= g * w;
        h = t;
    }
    (h, dhs, dhx)
}

#[test]
fn methods_of_the_elements_of_a_local_vec_of_structs() {
    let (s, x) = (0.8, 0.3);
    let (h, es, ex) = layers_by_hand(s, x);
    for (what, f, g) in [
        (
            "pushed_layers",
            pushed_layers as fn(f64, f64) -> f64,
            pushed_layers_grad as fn(f64, f64) -> (f64, (f64, f64)),
        ),
        ("declared_layers", declared_layers, declared_layers_grad),
    ] {
        let (y, (ds, dx)) = g(s, x);
        close(what, y, h, TOL);
        close(&format!("{what}, ∂s"), ds, es, TOL);
        close(&format!("{what}, ∂x"), dx, ex, TOL);
        fd2(what, f, (s, x), (ds, dx));
    }
}

// ---------------------------------------------------------------------------------------------
// A float state that starts as an unsuffixed literal, combined by a float method written as a
// path: the path names the type that the literal alone does not.
// ---------------------------------------------------------------------------------------------

/// ‖x − y‖∞ = max |xᵢ − yᵢ|: ∂xᵢ = sign(xᵢ − yᵢ) at the (unique) largest entry, else 0.
#[differentiate(wrt(x))]
fn linf(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// max(0, max xᵢ) + max(0.1, x₀) + min(0.5, x₁) + hypot(3, x₂):
/// ∂ at the largest entry 1, ∂x₀ += 1 (x₀ > 0.1), ∂x₁ += 1 (x₁ < 0.5), ∂x₂ += x₂/hypot(3, x₂).
#[differentiate]
fn running_max(x: &[f64]) -> f64 {
    let mut best = 0.0;
    for v in x {
        best = f64::max(best, *v);
    }
    best + f64::max(0.1, x[0]) + f64::min(0.5, x[1]) + f64::hypot(3.0, x[2])
}

/// The same in `f32`: m = max(0, 2x) over k < 3, + max(0.25, x) + √2·x; d = 2 + 1 + √2.
#[differentiate]
fn running_max_f32(x: f32) -> f32 {
    let mut m = 0.0;
    for k in 0..3 {
        m = f32::max(m, x * k as f32);
    }
    m + f32::max(0.25, x) + f32::sqrt(2.0) * x
}

#[test]
fn a_literal_state_combined_by_a_float_method_path() {
    let (x, y) = ([0.3, -1.2, 0.8, 2.0, -0.4], [0.1, 0.2, 0.3, 0.4, 0.5]);
    let (_, d) = linf_grad(&x, &y);
    let mut e = vec![0.0; 5];
    e[3] = 1.0; // x₃ − y₃ = 1.6 is the largest
    for k in 0..5 {
        close(&format!("linf ∂x{k}"), d[k], e[k], TOL);
    }
    fd_vec("linf", |p| linf(p, &y), &x, &d);

    let x = [0.3, -1.2, 0.8];
    let (v, d) = running_max_grad(&x);
    close("value", v, running_max(&x), TOL);
    let h = 9.0f64 + 0.64;
    let e = [1.0, 1.0, 1.0 + 0.8 / h.sqrt()]; // x₂ = 0.8 is the largest
    for k in 0..3 {
        close(&format!("running_max ∂x{k}"), d[k], e[k], TOL);
    }
    fd_vec("running_max", running_max, &x, &d);

    let (_, d) = running_max_f32_grad(0.4);
    close("f32", d as f64, (3.0 + 2f32.sqrt()) as f64, 1e-6);
}

// ---------------------------------------------------------------------------------------------
// A float trait's method called through the trait (`Float::max(x, y)`), in generic code: it was
// taken for a function `max` of a module `Float`, whose `Float::max_vjp` rustc could not find.
// ---------------------------------------------------------------------------------------------

/// ½x² + max(x, y) + √(y² + ε) + x³ (with x > y):
/// ∂x = x + 1 + 3x², ∂y = y/√(y² + ε).
#[differentiate]
fn through_the_trait<T: num_traits::Float>(x: T, y: T) -> T {
    let half = T::from(0.5).unwrap();
    let eps = T::epsilon();
    half * x * x
        + num_traits::Float::max(x, y)
        + (y * y + eps).sqrt()
        + num_traits::Float::powi(x, 3)
}

#[test]
fn float_trait_methods_called_through_the_trait() {
    let (x, y) = (0.7, 0.2);
    let (v, d) = through_the_trait_grad(x, y);
    close("value", v, through_the_trait(x, y), TOL);
    let e = (x + 1.0 + 3.0 * x * x, y / (y * y + f64::EPSILON).sqrt());
    close2("through_the_trait", d, e);
    fd2("through_the_trait", through_the_trait, (x, y), d);
    let (x, y) = (0.7f32, 0.2f32);
    let (_, (dx, dy)) = through_the_trait_grad(x, y);
    close("f32 ∂x", dx as f64, (x + 1.0 + 3.0 * x * x) as f64, 1e-6);
    close(
        "f32 ∂y",
        dy as f64,
        (y / (y * y + f32::EPSILON).sqrt()) as f64,
        1e-6,
    );
}

// ---------------------------------------------------------------------------------------------
// The user's methods on the elements of a slice of structs taken as a parameter
// (`bodies.iter().map(|b| b.potential(g))`), and a local `Vec` of structs lent to such a
// function, whole and as a range, and changed by the other mutations.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Body {
    m: f64,
    x: f64,
}

impl Body {
    #[differentiate]
    fn potential(&self, g: f64) -> f64 {
        self.m * g * self.x
    }

    #[differentiate]
    fn parts(&self) -> (f64, f64) {
        (self.m * self.x, self.x * self.x)
    }
}

/// Σ mᵢ·g·xᵢ + ½mᵢxᵢ²: ∂mᵢ = g·xᵢ + ½xᵢ², ∂xᵢ = mᵢ·g + mᵢxᵢ, ∂g = Σ mᵢxᵢ.
#[differentiate]
fn total_energy(bodies: &[Body], g: f64) -> f64 {
    bodies
        .iter()
        .map(|b| b.potential(g) + 0.5 * b.m * b.x * b.x)
        .sum()
}

#[test]
fn methods_of_the_elements_of_a_slice_of_structs() {
    let bodies = [Body { m: 1.5, x: 0.3 }, Body { m: 0.5, x: -1.2 }];
    let g = 9.8;
    let (_, (db, dg)) = total_energy_grad(&bodies, g);
    for (k, (b, d)) in bodies.iter().zip(&db).enumerate() {
        close(&format!("∂m{k}"), d.m, g * b.x + 0.5 * b.x * b.x, TOL);
        close(&format!("∂x{k}"), d.x, b.m * g + b.m * b.x, TOL);
    }
    close("∂g", dg, bodies.iter().map(|b| b.m * b.x).sum(), TOL);
}

/// bᵢ = (m₀(1 + i), x₀ − 0.1i), i < 4: the energy of all and of the last two, sums over them
/// and an element's method with a tuple result.
#[differentiate]
fn bodies_lent(m0: f64, x0: f64, g: f64) -> f64 {
    let mut bodies = Vec::new();
    for i in 0..4 {
        bodies.push(Body {
            m: m0 * (1.0 + i as f64),
            x: x0 - 0.1 * i as f64,
        });
    }
    let e1 = total_energy(&bodies, g);
    let e2: f64 = bodies.iter().map(|b| b.potential(g)).sum();
    let e3 = bodies.iter().fold(0.0, |acc, b| acc + b.m * b.x);
    let (a, c) = bodies[1].parts();
    let e4 = total_energy(&bodies[2..], g);
    e1 + e2 * e3 + a * c + e4
}

fn bodies_lent_by_hand(m0: f64, x0: f64, g: f64) -> f64 {
    let b: Vec<(f64, f64)> = (0..4)
        .map(|i| (m0 * (1.0 + i as f64), x0 - 0.1 * i as f64))
        .collect();
    let energy =
        |bs: &[(f64, f64)]| -> f64 { bs.iter().map(|(m, x)| m * g * x + 0.5 * m * x * x).sum() };
    let e2: f64 = b.iter().map(|(m, x)| m * g * x).sum();
    let e3: f64 = b.iter().map(|(m, x)| m * x).sum();
    energy(&b) + e2 * e3 + (b[1].0 * b[1].1) * (b[1].1 * b[1].1) + energy(&b[2..])
}

/// Pushed bᵢ = (m₀ + i, x₀(i + 1)), then `extend_from_slice`, `reverse`, `rotate_left`,
/// `split_off`, `swap_remove` and writes through `iter_mut`.
#[differentiate]
fn bodies_changed(m0: f64, x0: f64) -> f64 {
    let mut bodies = Vec::new();
    for i in 0..4 {
        bodies.push(Body {
            m: m0 + i as f64,
            x: x0 * (i as f64 + 1.0),
        });
    }
    let other = vec![Body { m: m0 * m0, x: x0 }, Body { m: 1.0, x: m0 * x0 }];
    bodies.extend_from_slice(&other);
    bodies.reverse();
    bodies.rotate_left(1);
    let tail = bodies.split_off(4);
    let sw = bodies.swap_remove(0);
    for b in bodies.iter_mut() {
        *b = Body {
            m: b.m * 2.0,
            x: b.x + sw.x,
        };
    }
    let mut s = sw.m * tail[0].x + tail[1].m * tail[1].x;
    for b in &bodies {
        s += b.m * b.x.sin();
    }
    s
}

fn bodies_changed_by_hand(m0: f64, x0: f64) -> f64 {
    let mut b: Vec<(f64, f64)> = (0..4)
        .map(|i| (m0 + i as f64, x0 * (i as f64 + 1.0)))
        .collect();
    b.extend_from_slice(&[(m0 * m0, x0), (1.0, m0 * x0)]);
    b.reverse();
    b.rotate_left(1);
    let tail = b.split_off(4);
    let sw = b.swap_remove(0);
    let mut s = sw.0 * tail[0].1 + tail[1].0 * tail[1].1;
    for (m, x) in &b {
        s += 2.0 * m * (x + sw.1).sin();
    }
    s
}

#[test]
fn a_local_vec_of_structs_lent_and_changed() {
    let (m0, x0, g) = (0.5, 1.2, 9.8);
    let (v, (dm, dx, dg)) = bodies_lent_grad(m0, x0, g);
    close("bodies_lent", v, bodies_lent_by_hand(m0, x0, g), TOL);
    fd_vec(
        "bodies_lent",
        |p| bodies_lent_by_hand(p[0], p[1], p[2]),
        &[m0, x0, g],
        &[dm, dx, dg],
    );
    let (v, d) = bodies_changed_grad(m0, x0);
    close("bodies_changed", v, bodies_changed_by_hand(m0, x0), TOL);
    fd2("bodies_changed", bodies_changed_by_hand, (m0, x0), d);
}

// ---------------------------------------------------------------------------------------------
// A closure's declared result type types its body (`|a, b| -> f64 { .. .sum() }`), which the
// expansion had dropped: rustc could not infer the sum's type inside the generated code. And a
// float trait's method passed by its path (`map(Float::exp)`).
// ---------------------------------------------------------------------------------------------

/// x₀y₁ + x₁y₂ + w·Σxᵢ: ∂x = (y₁ + w, y₂ + w, w), ∂y = (0, x₀, x₁).
#[differentiate(wrt(x, y))]
fn typed_closures(x: &[f64], y: &[f64], w: f64) -> f64 {
    let dot = |a: &[f64], b: &[f64]| -> f64 { a.iter().zip(b).map(|(p, q)| p * q).sum() };
    let scaled = |v: &f64| -> f64 { *v * w };
    dot(&x[..2], &y[1..]) + x.iter().map(scaled).sum::<f64>()
}

/// log Σ exp xᵢ: ∂xᵢ = softmax(x)ᵢ.
#[differentiate]
fn log_sum_exp_generic<T: num_traits::Float>(x: &[T]) -> T {
    x.iter()
        .copied()
        .map(num_traits::Float::exp)
        .fold(T::zero(), |a, b| a + b)
        .ln()
}

#[test]
fn closures_with_a_declared_result_type_and_trait_paths_as_functions() {
    let (x, y, w) = ([0.3, -1.2, 0.8], [0.5, 0.1, -0.4], 0.7);
    let (v, (dx, dy)) = typed_closures_grad(&x, &y, w);
    close("value", v, typed_closures(&x, &y, w), TOL);
    close_all("∂x", &dx, &[y[1] + w, y[2] + w, w]);
    close_all("∂y", &dy, &[0.0, x[0], x[1]]);

    let (_, d) = log_sum_exp_generic_grad(&x);
    let z: f64 = x.iter().map(|v| v.exp()).sum();
    let e: Vec<f64> = x.iter().map(|v| v.exp() / z).collect();
    close_all("log_sum_exp", &d, &e);
    fd_vec("log_sum_exp", log_sum_exp_generic, &x, &d);
}

// ---------------------------------------------------------------------------------------------
// An element popped and never read (`v.pop();`): its cotangent is a zero of the element type,
// which the generated code spells for floats it cannot name (generic code) too.
// ---------------------------------------------------------------------------------------------

/// Σ xᵢ² over all but the last two: ∂xᵢ = 2xᵢ there, 0 for the last two.
#[differentiate]
fn drop_last_two<T: num_traits::Float>(x: &[T]) -> T {
    let mut v = x.to_vec();
    v.pop();
    let _ = v.pop();
    v.iter().fold(T::zero(), |s, &a| s + a * a)
}

#[test]
fn elements_popped_and_never_read() {
    let x = [0.3, -1.2, 0.8, 2.0];
    let (_, d) = drop_last_two_grad(&x);
    close_all("drop_last_two", &d, &[0.6, -2.4, 0.0, 0.0]);
    fd_vec("drop_last_two", drop_last_two, &x, &d);
    let (_, d) = drop_last_two_grad(&[0.5f32, 1.0, 2.0]);
    assert_eq!(d, [1.0f32, 0.0, 0.0]);
}

// ---------------------------------------------------------------------------------------------
// The elements of a local `Vec` of a generic struct (`cs.push(Cell { .. })` in a function generic
// over its float): their type is named as the literal names it, its generic arguments left to
// inference (`Vec<Cell>` in a type was rustc's "missing generics").
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Cell<T> {
    a: T,
    b: T,
}

impl<T: num_traits::Float> Cell<T> {
    #[differentiate]
    fn val(&self, x: T) -> T
    where
        T: num_traits::Float,
    {
        self.a * x + self.b
    }
}

/// Cells cₖ = (s·k, s) for k < 3 applied in turn from x: h₁ = s, h₂ = s² + s,
/// h₃ = 2s·h₂ + s = 2s³ + 2s² + s, plus c₁.a = s: ∂s = 6s² + 4s + 2, ∂x = 0.
#[differentiate]
fn generic_cells<T: num_traits::Float>(s: T, x: T) -> T {
    let mut cs = Vec::new();
    for k in 0..3 {
        cs.push(Cell {
            a: s * T::from(k).unwrap(),
            b: s,
        });
    }
    let mut h = x;
    for c in &cs {
        h = c.val(h);
    }
    h + cs[1].a
}

#[test]
fn methods_of_the_elements_of_a_local_vec_of_a_generic_struct() {
    let (s, x) = (0.5, 0.3);
    let (v, d) = generic_cells_grad(s, x);
    close("value", v, 2.0 * s * s * s + 2.0 * s * s + 2.0 * s, TOL);
    close2("generic_cells", d, (6.0 * s * s + 4.0 * s + 2.0, 0.0));
    fd2("generic_cells", generic_cells, (s, x), d);
    let (_, (ds, _)) = generic_cells_grad(0.5f32, 0.3);
    close("f32 ∂s", ds as f64, 6.0 * s * s + 4.0 * s + 2.0, 1e-6);
}
