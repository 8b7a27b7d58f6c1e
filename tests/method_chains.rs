//! Methods of the user's own struct called as vector code calls them: in chains on what another
//! method returned (`a.sub(b).scale(2.0).norm()`), on a local bound to such a result
//! (`let d = a.sub(b); d.norm()`), and under names that array rules also have (`a.dot(&b)`,
//! `self.dot(self)` of a `V3`), and operators a struct implements (`(a - b) * 2.0 + a` of a
//! `V2` with `#[differentiate] impl Sub for V2`, also on the elements of a local `Vec` of it), and
//! methods on a struct built where they are called. Each gradient is compared with its analytic value (stated
//! beside each function) and with central finite differences; forward mode with the dot-product
//! test.

#![allow(clippy::vec_init_then_push, clippy::useless_vec)] // written as users write them

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

use autodiff::{Differentiable, differentiate};

mod common;
use common::{close, close_all, fd, fd_vec, forward};

#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
struct V3 {
    x: f64,
    y: f64,
    z: f64,
}

#[differentiate]
impl V3 {
    fn sub(&self, o: &V3) -> V3 {
        V3 {
            x: self.x - o.x,
            y: self.y - o.y,
            z: self.z - o.z,
        }
    }
    fn plus(self, o: V3) -> V3 {
        V3 {
            x: self.x + o.x,
            y: self.y + o.y,
            z: self.z + o.z,
        }
    }
    fn scale(&self, k: f64) -> V3 {
        V3 {
            x: self.x * k,
            y: self.y * k,
            z: self.z * k,
        }
    }
    fn cross(&self, o: &V3) -> V3 {
        V3 {
            x: self.y * o.z - self.z * o.y,
            y: self.z * o.x - self.x * o.z,
            z: self.x * o.y - self.y * o.x,
        }
    }
    /// Named like the array rule: on `self` it is this method.
    fn dot(&self, o: &V3) -> f64 {
        self.x * o.x + self.y * o.y + self.z * o.z
    }
    fn norm(&self) -> f64 {
        self.dot(self).sqrt()
    }
    /// The sum of the components, named like the array rule `sum`.
    fn sum(&self) -> f64 {
        self.x + self.y + self.z
    }
}

fn v(s: &[f64]) -> V3 {
    V3 {
        x: s[0],
        y: s[1],
        z: s[2],
    }
}

fn flat(a: &V3) -> [f64; 3] {
    [a.x, a.y, a.z]
}

fn both(g: &(V3, V3)) -> Vec<f64> {
    [flat(&g.0), flat(&g.1)].concat()
}

const A: [f64; 3] = [1.0, 2.0, 3.0];
const B: [f64; 3] = [0.5, -1.0, 1.25];

/// `2·|a − b|`: `∂/∂a = 2(a − b)/|a − b|`, `∂/∂b = −∂/∂a`.
#[differentiate]
fn chain(a: &V3, b: &V3) -> f64 {
    a.sub(b).scale(2.0).norm()
}

#[test]
fn a_chain_of_methods_on_what_a_method_returned() {
    let (a, b) = (v(&A), v(&B));
    let (y, g) = chain_grad(&a, &b);
    let d = [A[0] - B[0], A[1] - B[1], A[2] - B[2]];
    let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    close_all("value", &[y], &[2.0 * n]);
    let ga: Vec<f64> = d.iter().map(|di| 2.0 * di / n).collect();
    let gb: Vec<f64> = ga.iter().map(|g| -g).collect();
    close_all("gradient", &both(&g), &[ga, gb].concat());
    let f = |p: &[f64]| chain(&v(&p[..3]), &v(&p[3..]));
    fd_vec("chain", f, &[A, B].concat(), &both(&g));
    forward("chain").check(
        &(a, b),
        |p| chain(&p.0, &p.1),
        |p, t| chain_jvp(&p.0, &p.1, &t.0, &t.1),
        |p, w| {
            let (y, pb) = chain_vjp(&p.0, &p.1);
            (y, pb(w))
        },
    );
}

/// `d = a − b`: `|d| + d·a + a·d + |d + b|` = `|d| + 2 d·a + |a|`.
/// `∂/∂a = d/|d| + 2(d + a) + a/|a|`, `∂/∂b = −d/|d| − 2a`.
#[differentiate]
fn local_result(a: &V3, b: &V3) -> f64 {
    let d = a.sub(b);
    d.norm() + V3::dot(&d, a) + a.dot(&d) + d.plus(*b).norm()
}

#[test]
fn methods_on_a_local_bound_to_a_method_result_and_named_like_array_rules() {
    let (a, b) = (v(&A), v(&B));
    let (y, g) = local_result_grad(&a, &b);
    let d = [A[0] - B[0], A[1] - B[1], A[2] - B[2]];
    let nd = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
    let na = (A[0] * A[0] + A[1] * A[1] + A[2] * A[2]).sqrt();
    let da: f64 = (0..3).map(|k| d[k] * A[k]).sum();
    close_all("value", &[y], &[nd + 2.0 * da + na]);
    let ga: Vec<f64> = (0..3)
        .map(|k| d[k] / nd + 2.0 * (d[k] + A[k]) + A[k] / na)
        .collect();
    let gb: Vec<f64> = (0..3).map(|k| -d[k] / nd - 2.0 * A[k]).collect();
    close_all("gradient", &both(&g), &[ga, gb].concat());
    let f = |p: &[f64]| local_result(&v(&p[..3]), &v(&p[3..]));
    fd_vec("local_result", f, &[A, B].concat(), &both(&g));
}

/// `|0.5·((a + b) + a)| = ½|2a + b|`: `∂/∂a = (2a + b)/|2a + b|`, `∂/∂b = ½ (2a + b)/|2a + b|`.
/// Methods taking `self` by value, chained on owned parameters.
#[differentiate]
fn by_value(a: V3, b: V3) -> f64 {
    let s = a.plus(b).plus(a);
    s.scale(0.5).norm()
}

#[test]
fn a_chain_of_methods_taking_self_by_value() {
    let (y, g) = by_value_grad(v(&A), v(&B));
    let s: Vec<f64> = (0..3).map(|k| 2.0 * A[k] + B[k]).collect();
    let n = s.iter().map(|x| x * x).sum::<f64>().sqrt();
    close_all("value", &[y], &[0.5 * n]);
    let ga: Vec<f64> = s.iter().map(|x| x / n).collect();
    let gb: Vec<f64> = s.iter().map(|x| 0.5 * x / n).collect();
    close_all("gradient", &both(&g), &[ga, gb].concat());
    let f = |p: &[f64]| by_value(v(&p[..3]), v(&p[3..]));
    fd_vec("by_value", f, &[A, B].concat(), &both(&g));
}

/// The triple product and a `sum` of the struct's own, both called through the type on a
/// method's result (there, `n.dot(c)` and `n.sum()` would be the array rules): `(a × b)·c +
/// Σ(a × b)`.
/// `∂/∂c = a × b`, `∂/∂a = b × (c + 1)`, `∂/∂b = (c + 1) × a` (with `1 = (1, 1, 1)`).
#[differentiate]
fn triple(a: &V3, b: &V3, c: &V3) -> f64 {
    let n = a.cross(b);
    V3::dot(&n, c) + V3::sum(&n)
}

#[test]
fn a_method_named_like_an_array_rule_on_a_method_result_through_its_type() {
    let c = [0.25, 0.75, -0.5];
    let (y, (ga, gb, gc)) = triple_grad(&v(&A), &v(&B), &v(&c));
    let cross = |p: [f64; 3], q: [f64; 3]| {
        [
            p[1] * q[2] - p[2] * q[1],
            p[2] * q[0] - p[0] * q[2],
            p[0] * q[1] - p[1] * q[0],
        ]
    };
    let n = cross(A, B);
    let c1 = [c[0] + 1.0, c[1] + 1.0, c[2] + 1.0];
    let value: f64 = (0..3).map(|k| n[k] * c1[k]).sum();
    close_all("value", &[y], &[value]);
    close_all("∂c", &flat(&gc), &n);
    close_all("∂a", &flat(&ga), &cross(B, c1));
    close_all("∂b", &flat(&gb), &cross(c1, A));
    let f = |p: &[f64]| triple(&v(&p[..3]), &v(&p[3..6]), &v(&p[6..]));
    let g = [flat(&ga), flat(&gb), flat(&gc)].concat();
    fd_vec("triple", f, &[A, B, c].concat(), &g);
}

/// Springs between consecutive points, `Σ k/2 (|pᵢ₊₁ − pᵢ| − r)²`:
/// `∂/∂pᵢ₊₁ += k (|dᵢ| − r) dᵢ/|dᵢ|` and `∂/∂pᵢ −= ` the same, with `dᵢ = pᵢ₊₁ − pᵢ`.
#[differentiate]
fn springs(ps: &[V3], k: f64, r: f64) -> f64 {
    let mut e = 0.0;
    for i in 0..ps.len() - 1 {
        let d = ps[i + 1].sub(&ps[i]);
        let l = d.norm() - r;
        e += 0.5 * k * l * l;
    }
    e
}

#[test]
fn a_method_on_an_element_then_on_its_result_in_a_loop() {
    let raw = common::data(12, 0.4);
    let ps: Vec<V3> = raw.chunks(3).map(v).collect();
    let (k, r) = (3.0, 0.5);
    let (e, (gp, gk, gr)) = springs_grad(&ps, k, r);
    let mut expected = vec![0.0; 12];
    let (mut ek, mut er, mut value) = (0.0, 0.0, 0.0);
    for i in 0..3 {
        let d: Vec<f64> = (0..3)
            .map(|c| raw[3 * i + 3 + c] - raw[3 * i + c])
            .collect();
        let n = d.iter().map(|x| x * x).sum::<f64>().sqrt();
        let l = n - r;
        value += 0.5 * k * l * l;
        ek += 0.5 * l * l;
        er -= k * l;
        for c in 0..3 {
            expected[3 * i + 3 + c] += k * l * d[c] / n;
            expected[3 * i + c] -= k * l * d[c] / n;
        }
    }
    close_all("value", &[e], &[value]);
    let got: Vec<f64> = gp.iter().flat_map(flat).collect();
    close_all("∂p", &got, &expected);
    close_all("∂k, ∂r", &[gk, gr], &[ek, er]);
    let f = |p: &[f64]| springs(&p.chunks(3).map(v).collect::<Vec<_>>(), k, r);
    fd_vec("springs", f, &raw, &got);
}

#[derive(Clone, Copy, Debug, PartialEq, Differentiable)]
struct V2 {
    x: f64,
    y: f64,
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

/// Not differentiated: the generated code computes `c += p` as `c = c + p`, through `add`.
impl AddAssign for V2 {
    fn add_assign(&mut self, o: V2) {
        *self = *self + o;
    }
}

/// The result type as the trait's `Self::Output`.
#[differentiate]
impl Sub for V2 {
    type Output = Self;
    fn sub(self, o: V2) -> Self::Output {
        V2 {
            x: self.x - o.x,
            y: self.y - o.y,
        }
    }
}

#[differentiate]
impl Mul<f64> for V2 {
    type Output = V2;
    fn mul(self, k: f64) -> V2 {
        V2 {
            x: self.x * k,
            y: self.y * k,
        }
    }
}

#[differentiate]
impl Div<f64> for V2 {
    type Output = V2;
    fn div(self, k: f64) -> V2 {
        V2 {
            x: self.x / k,
            y: self.y / k,
        }
    }
}

#[differentiate]
impl Neg for V2 {
    type Output = V2;
    fn neg(self) -> V2 {
        V2 {
            x: -self.x,
            y: -self.y,
        }
    }
}

fn v2(s: &[f64]) -> V2 {
    V2 { x: s[0], y: s[1] }
}

/// `d = 2(a − b) + a = 3a − 2b`, `|d|²`: `∂/∂a = 6d`, `∂/∂b = −4d`.
#[differentiate]
fn operators(a: V2, b: V2) -> f64 {
    let d = (a - b) * 2.0 + a;
    d.x * d.x + d.y * d.y
}

/// Through references, with `-` and `/`: `e = −(a − b)/k + a = (b − a)/k + a`, `e.x · e.y`.
/// `∂/∂a = (1 − 1/k)(e.y, e.x)`, `∂/∂b = (e.y, e.x)/k`, `∂/∂k = −(b − a)·(e.y, e.x)/k²`.
#[differentiate]
fn through_refs(a: &V2, b: &V2, k: f64) -> f64 {
    let d = *a - *b;
    let e = -d / k + *a;
    e.x * e.y
}

#[test]
fn operators_of_a_struct_with_differentiated_impls() {
    let (a, b) = ([1.0, 2.0], [0.5, -1.0]);
    let (y, (ga, gb)) = operators_grad(v2(&a), v2(&b));
    let d = [3.0 * a[0] - 2.0 * b[0], 3.0 * a[1] - 2.0 * b[1]];
    close_all("value", &[y], &[d[0] * d[0] + d[1] * d[1]]);
    close_all("∂a", &[ga.x, ga.y], &[6.0 * d[0], 6.0 * d[1]]);
    close_all("∂b", &[gb.x, gb.y], &[-4.0 * d[0], -4.0 * d[1]]);
    let f = |p: &[f64]| operators(v2(&p[..2]), v2(&p[2..]));
    fd_vec("operators", f, &[a, b].concat(), &[ga.x, ga.y, gb.x, gb.y]);

    let k = 1.5;
    let (y, (ga, gb, gk)) = through_refs_grad(&v2(&a), &v2(&b), k);
    let e = [(b[0] - a[0]) / k + a[0], (b[1] - a[1]) / k + a[1]];
    close_all("value", &[y], &[e[0] * e[1]]);
    let s = 1.0 - 1.0 / k;
    close_all("∂a", &[ga.x, ga.y], &[s * e[1], s * e[0]]);
    close_all("∂b", &[gb.x, gb.y], &[e[1] / k, e[0] / k]);
    let dk = -((b[0] - a[0]) * e[1] + (b[1] - a[1]) * e[0]) / (k * k);
    close_all("∂k", &[gk], &[dk]);
    let f = |p: &[f64]| through_refs(&v2(&p[..2]), &v2(&p[2..4]), p[4]);
    let g = [ga.x, ga.y, gb.x, gb.y, gk];
    fd_vec("through_refs", f, &[a.as_slice(), &b, &[k]].concat(), &g);
    forward("operators").check(
        &(v2(&a), v2(&b)),
        |p| operators(p.0, p.1),
        |p, t| operators_jvp(p.0, p.1, t.0, t.1),
        |p, w| {
            let (y, pb) = operators_vjp(p.0, p.1);
            (y, pb(w))
        },
    );
}

/// Gravity-like pair potential over a slice, `Σ_{i<j} 1/|pᵢ − pⱼ|`, the difference taken by
/// the struct's `-` on elements: `∂/∂pᵢ = −Σ_{j≠i} (pᵢ − pⱼ)/|pᵢ − pⱼ|³`.
#[differentiate]
fn pair_potential(ps: &[V2]) -> f64 {
    let mut e = 0.0;
    for i in 0..ps.len() {
        for j in (i + 1)..ps.len() {
            let d = ps[i] - ps[j];
            e += 1.0 / (d.x * d.x + d.y * d.y).sqrt();
        }
    }
    e
}

/// The centre of mass by `+=` and `/`, then its distance from a point:
/// `c = Σ pᵢ / n`, `|c − q|²`: `∂/∂pᵢ = 2(c − q)/n`, `∂/∂q = −2(c − q)`.
#[differentiate]
fn centre_gap(ps: &[V2], q: V2) -> f64 {
    let mut c = ps[0];
    for p in &ps[1..] {
        c += *p;
    }
    let g = c / ps.len() as f64 - q;
    g.x * g.x + g.y * g.y
}

#[test]
fn a_compound_assignment_of_a_struct_is_its_addition() {
    let raw = common::data(6, 0.2);
    let ps: Vec<V2> = raw.chunks(2).map(v2).collect();
    let q = V2 { x: 0.3, y: -0.4 };
    let (y, (gp, gq)) = centre_gap_grad(&ps, q);
    let c = [
        (raw[0] + raw[2] + raw[4]) / 3.0,
        (raw[1] + raw[3] + raw[5]) / 3.0,
    ];
    let g = [c[0] - q.x, c[1] - q.y];
    close_all("value", &[y], &[g[0] * g[0] + g[1] * g[1]]);
    let got: Vec<f64> = gp.iter().flat_map(|p| [p.x, p.y]).collect();
    let expected: Vec<f64> = (0..6).map(|k| 2.0 * g[k % 2] / 3.0).collect();
    close_all("∂p", &got, &expected);
    close_all("∂q", &[gq.x, gq.y], &[-2.0 * g[0], -2.0 * g[1]]);
}

#[test]
fn an_operator_on_elements_of_a_slice_of_structs() {
    let raw = common::data(8, 1.3);
    let ps: Vec<V2> = raw.chunks(2).map(v2).collect();
    let (e, g) = pair_potential_grad(&ps);
    let mut value = 0.0;
    let mut expected = vec![0.0; 8];
    for i in 0..4 {
        for j in 0..4 {
            if i == j {
                continue;
            }
            let d = [raw[2 * i] - raw[2 * j], raw[2 * i + 1] - raw[2 * j + 1]];
            let r = (d[0] * d[0] + d[1] * d[1]).sqrt();
            if i < j {
                value += 1.0 / r;
            }
            expected[2 * i] -= d[0] / (r * r * r);
            expected[2 * i + 1] -= d[1] / (r * r * r);
        }
    }
    close_all("value", &[e], &[value]);
    let got: Vec<f64> = g.iter().flat_map(|p| [p.x, p.y]).collect();
    close_all("∂p", &got, &expected);
    let f = |p: &[f64]| pair_potential(&p.chunks(2).map(v2).collect::<Vec<_>>());
    fd_vec("pair_potential", f, &raw, &got);
}

type Real = f64;

/// A float aliased by a name: its operators are the float's. `x·y + x`: `∂/∂x = y + 1`.
#[differentiate]
fn aliased(x: Real, y: f64) -> Real {
    x * y + x
}

type Float = f32;

/// A result type named like a float alias has its `_grad` (and `_hvp`) as `f64` has: it was
/// rustc's "cannot find function `energy_grad`", the macro not seeing the alias. `½k·x²`.
#[differentiate(hessian)]
fn energy(x: Real, k: Real) -> Real {
    0.5 * k * x * x
}

#[differentiate]
fn norm_sq(v: &[Float]) -> Float {
    v.iter().map(|a| a * a).sum()
}

#[test]
fn operators_of_an_aliased_float_stay_the_floats() {
    let (value, pb) = aliased_vjp(1.5, 2.0);
    close_all("value", &[value], &[4.5]);
    let (gx, gy) = pb(1.0);
    close_all("gradient", &[gx, gy], &[3.0, 1.5]);
    assert_eq!(aliased_grad(1.5, 2.0), (4.5, (3.0, 1.5)));
    // ∂x = k·x, ∂k = x²/2; H·(1, 0) = (k, x).
    assert_eq!(energy_grad(3.0, 2.0), (9.0, (6.0, 4.5)));
    assert_eq!(
        energy_hvp(3.0, 2.0, 1.0, 0.0),
        (9.0, (6.0, 4.5), (2.0, 3.0))
    );
    assert_eq!(norm_sq_grad(&[1.0, -2.0]), (5.0, vec![2.0, -4.0]));
}

/// A state changed in place by methods taking `&mut self`, as simulation code writes it.
#[derive(Clone, Debug, Differentiable)]
struct Oscillator {
    x: f64,
    v: f64,
    t: f64,
}

#[differentiate]
impl Oscillator {
    fn kick(&mut self, dt: f64, k: f64) {
        self.v -= k * self.x * dt;
    }
    /// With an early `return`: a step of no length moves nothing.
    fn drift(&mut self, dt: f64) {
        if dt <= 0.0 {
            return;
        }
        self.x += self.v * dt;
        self.t += dt;
    }
    /// A leapfrog step, through the other two.
    fn step(&mut self, dt: f64, k: f64) {
        self.kick(0.5 * dt, k);
        self.drift(dt);
        self.kick(0.5 * dt, k);
    }
    fn energy(&self, k: f64) -> f64 {
        0.5 * self.v * self.v + 0.5 * k * self.x * self.x
    }
}

/// Leapfrog steps until `t ≥ 1`, then `x·E`.
#[differentiate]
fn leapfrog(x0: f64, k: f64) -> f64 {
    let mut s = Oscillator {
        x: x0,
        v: 0.0,
        t: 0.0,
    };
    s.drift(0.0);
    while s.t < 1.0 {
        s.step(0.1, k);
    }
    s.x * s.energy(k)
}

/// [`leapfrog`] with the derivatives along `x0` and `k` carried by hand: each update's
/// derivative is the chain rule of the update as written.
fn leapfrog_by_hand(x0: f64, k: f64) -> (f64, [f64; 2]) {
    let (mut x, mut v, mut t) = (x0, 0.0, 0.0);
    let (mut dx, mut dv) = ([1.0, 0.0], [0.0, 0.0]);
    let dt = 0.1;
    while t < 1.0 {
        for half in 0..2 {
            // kick: v −= k·x·dt/2
            for (j, dk) in [0.0, 1.0].into_iter().enumerate() {
                dv[j] -= (dk * x + k * dx[j]) * 0.5 * dt;
            }
            v -= k * x * 0.5 * dt;
            if half == 0 {
                // drift: x += v·dt
                for j in 0..2 {
                    dx[j] += dv[j] * dt;
                }
                x += v * dt;
                t += dt;
            }
        }
    }
    let e = 0.5 * v * v + 0.5 * k * x * x;
    let de = |j: usize, dk: f64| v * dv[j] + 0.5 * dk * x * x + k * x * dx[j];
    let y = x * e;
    (y, [dx[0] * e + x * de(0, 0.0), dx[1] * e + x * de(1, 1.0)])
}

#[test]
fn methods_taking_mut_self_change_a_local_state_in_a_loop() {
    let (x0, k) = (1.0, 2.0);
    let (y, (gx, gk)) = leapfrog_grad(x0, k);
    let (expected, [ex, ek]) = leapfrog_by_hand(x0, k);
    close_all("value", &[y], &[expected]);
    close_all("gradient", &[gx, gk], &[ex, ek]);
    fd_vec("leapfrog", |p| leapfrog(p[0], p[1]), &[x0, k], &[gx, gk]);
    forward("leapfrog").check(
        &(x0, k),
        |p| leapfrog(p.0, p.1),
        |p, t| leapfrog_jvp(p.0, p.1, t.0, t.1),
        |p, w| {
            let (y, pb) = leapfrog_vjp(p.0, p.1);
            (y, pb(w))
        },
    );
}

/// Bodies in a world that a `&mut self` method steps, with the vector operators on a local
/// (`acc + d * k`), on what `V2::sub` returned, and with a field on the left and a struct on
/// the right (`self.bodies[i].v += acc * dt`, typed by the right operand); a field on both
/// sides is written through the type (`V2::add(p, V2::mul(v, dt))`).
#[derive(Clone, Debug, Differentiable)]
struct Body {
    p: V2,
    v: V2,
    m: f64,
}

#[derive(Clone, Debug, Differentiable)]
struct World {
    bodies: Vec<Body>,
}

#[differentiate]
impl World {
    fn step(&mut self, dt: f64, g: f64) {
        let n = self.bodies.len();
        for i in 0..n {
            let mut acc = V2 { x: 0.0, y: -g };
            for j in 0..n {
                if i != j {
                    let d = V2::sub(self.bodies[j].p, self.bodies[i].p);
                    let r = (d.x * d.x + d.y * d.y).sqrt() + 0.1;
                    acc += d * (self.bodies[j].m / (r * r * r));
                }
            }
            self.bodies[i].v += acc * dt;
        }
        for i in 0..n {
            self.bodies[i].p = V2::add(self.bodies[i].p, V2::mul(self.bodies[i].v, dt));
        }
    }
}

/// Five steps of two lengths, then `Σ m·|v|² + p.y`.
#[differentiate]
fn world_energy(w0: &World, g: f64) -> f64 {
    let mut w = w0.clone();
    for k in 0..5 {
        if k % 2 == 0 {
            w.step(0.05, g);
        } else {
            w.step(0.025, g);
        }
    }
    let mut e = 0.0;
    for b in &w.bodies {
        e += b.m * (b.v.x * b.v.x + b.v.y * b.v.y) + b.p.y;
    }
    e
}

fn world(s: &[f64]) -> World {
    World {
        bodies: s
            .chunks(5)
            .map(|c| Body {
                p: v2(&c[..2]),
                v: v2(&c[2..4]),
                m: c[4],
            })
            .collect(),
    }
}

#[test]
fn a_world_stepped_by_a_mut_self_method_with_vector_operators() {
    let s = [
        0.0, 0.0, 0.1, 0.0, 1.0, 1.0, 0.5, 0.0, -0.2, 2.0, -0.5, 1.0, 0.3, 0.1, 0.5,
    ];
    let g = 9.8;
    let (_, (gw, gg)) = world_energy_grad(&world(&s), g);
    let got: Vec<f64> = gw
        .bodies
        .iter()
        .flat_map(|b| [b.p.x, b.p.y, b.v.x, b.v.y, b.m])
        .chain([gg])
        .collect();
    let f = |p: &[f64]| world_energy(&world(&p[..15]), p[15]);
    fd_vec("world_energy", f, &[s.as_slice(), &[g]].concat(), &got);
}

/// A `&mut self` method that pushes onto a `Vec` field, and one that scales it in place.
#[derive(Clone, Debug, Differentiable)]
struct Samples {
    xs: Vec<f64>,
    s: f64,
}

#[differentiate]
impl Samples {
    /// Adds `v²` unless an element is above 5 (found by a loop that breaks; the `return`
    /// is outside it).
    fn add_sample(&mut self, v: f64) {
        let mut full = false;
        for i in 0..self.xs.len() {
            if self.xs[i] > 5.0 {
                full = true;
                break;
            }
        }
        if full {
            return;
        }
        self.xs.push(v * v);
        self.s += v;
    }
    fn decay(&mut self, k: f64) {
        for i in 0..self.xs.len() {
            self.xs[i] *= k;
        }
    }
}

/// Six samples `vᵢ = a + i/2`, decayed by `k` after every second one: `Σ xs + k·Σ v`.
#[differentiate]
fn sampled(a: f64, k: f64) -> f64 {
    let mut acc = Samples {
        xs: Vec::new(),
        s: 0.0,
    };
    for i in 0..6 {
        acc.add_sample(a + i as f64 * 0.5);
        if i % 2 == 1 {
            acc.decay(k);
        }
    }
    acc.xs.iter().sum::<f64>() + acc.s * k
}

/// [`sampled`] with its derivatives carried by hand.
fn sampled_by_hand(a: f64, k: f64) -> (f64, [f64; 2]) {
    // Each element: value and derivatives along a and k.
    let mut xs: Vec<(f64, f64, f64)> = Vec::new();
    let (mut s, mut ds_a) = (0.0, 0.0);
    for i in 0..6 {
        let v = a + i as f64 * 0.5;
        if !xs.iter().any(|e| e.0 > 5.0) {
            xs.push((v * v, 2.0 * v, 0.0));
            s += v;
            ds_a += 1.0;
        }
        if i % 2 == 1 {
            for e in &mut xs {
                *e = (e.0 * k, e.1 * k, e.2 * k + e.0);
            }
        }
    }
    let y = xs.iter().map(|e| e.0).sum::<f64>() + s * k;
    let da = xs.iter().map(|e| e.1).sum::<f64>() + ds_a * k;
    let dk = xs.iter().map(|e| e.2).sum::<f64>() + s;
    (y, [da, dk])
}

#[test]
fn mut_self_methods_that_push_onto_and_scale_a_vec_field() {
    for (a, k) in [(1.2, 0.7), (2.5, 0.9), (0.3, 1.4)] {
        let (y, (ga, gk)) = sampled_grad(a, k);
        let (expected, [ea, ek]) = sampled_by_hand(a, k);
        close_all("value", &[y], &[expected]);
        close_all("gradient", &[ga, gk], &[ea, ek]);
        fd_vec("sampled", |p| sampled(p[0], p[1]), &[a, k], &[ga, gk]);
    }
}

/// Methods of `V2` for the programs below, which random-program testing found failing:
/// operators on the elements of a local `Vec` of it, methods named like array rules on a
/// local, an element or an operator's result, and methods on a struct built where they are
/// called.
#[differentiate]
impl V2 {
    fn new(x: f64, y: f64) -> V2 {
        V2 { x, y }
    }

    fn size2(&self) -> f64 {
        self.x * self.x + self.y * self.y
    }

    fn copy(&self) -> V2 {
        V2 {
            x: self.x,
            y: self.y,
        }
    }

    fn dot(&self, o: &V2) -> f64 {
        self.x * o.x + self.y * o.y
    }
}

/// `d = (x, 1) − (2, x) = (x − 2, 1 − x)` from the elements of a local `Vec` declared
/// `Vec<V2>`: |d|² = (x − 2)² + (1 − x)², derivative 2(x − 2) − 2(1 − x) = 4x − 6.
#[differentiate]
fn operator_on_elements_of_a_declared_vec(x: f64) -> f64 {
    let mut vs: Vec<V2> = Vec::new();
    vs.push(V2 { x, y: 1.0 });
    vs.push(V2 { x: 2.0, y: x });
    (vs[0] - vs[1]).size2()
}

/// The same from `vec![a, b]` of locals, after an element the macro does not know to be a
/// `V2` (a method's result; `a * 1.0` says what the `Vec` holds): vs = [a, a, b] with a = (x,
/// 1), b = (2, x); the first difference is 0, the second (x − 2, 1 − x): 4x − 6.
#[differentiate]
fn operator_on_elements_of_a_vec_of_locals(x: f64) -> f64 {
    let a = V2 { x, y: 1.0 };
    let b = V2::new(2.0, x);
    let vs = vec![a.copy(), a * 1.0, b];
    let mut t = 0.0;
    for i in 1..vs.len() {
        t += (vs[i - 1] - vs[i]).size2();
    }
    t
}

/// `a·b` of locals built by a literal and by an operator: a = (x, 2), b = a − (1, x) = (x − 1,
/// 2 − x); a·b = x(x − 1) + 2(2 − x) = x² − 3x + 4, derivative 2x − 3.
#[differentiate]
fn method_named_like_an_array_rule_on_locals(x: f64) -> f64 {
    let a = V2 { x, y: 2.0 };
    let b = a - V2 { x: 1.0, y: x };
    a.dot(&b)
}

/// Pushes of what the struct's operators return, then a method named like an array rule on
/// the elements: a = (x, 1), b = (2, x), vs = [a − b, a·x] = [(x − 2, 1 − x), (x², x)];
/// vs₀·vs₁ = (x − 2)x² + (1 − x)x = x³ − 3x² + x, derivative 3x² − 6x + 1.
#[differentiate]
fn pushes_of_operator_results(x: f64) -> f64 {
    let a = V2 { x, y: 1.0 };
    let b = V2::new(2.0, x);
    let mut vs = Vec::new();
    vs.push(a - b);
    vs.push(a * x);
    vs[0].dot(&vs[1])
}

/// `dot` on what an operator returned, directly and through a local: a = (x, 1), b = (2, x);
/// (a − b)·a = (x − 2)x + (1 − x) = x² − 3x + 1 and d = 2a = (2x, 2), d·b = 6x: the sum
/// x² + 3x + 1, derivative 2x + 3.
#[differentiate]
fn array_rule_names_on_operator_results(x: f64) -> f64 {
    let a = V2 { x, y: 1.0 };
    let b = V2::new(2.0, x);
    let d = a * 2.0;
    (a - b).dot(&a) + d.dot(&b)
}

/// Methods and operators on a struct built where they are used: a literal `(x, 1)` and
/// `V2::new(2, x)`: |(x, 1)|² + (2, x)·(x, 1) = x² + 1 + 3x, and d = (2, x)·0.5 − (x, 1) =
/// (1 − x, x/2 − 1) with |d|² = (1 − x)² + (x/2 − 1)²: the derivative 2x + 3 − 2(1 − x) +
/// (x/2 − 1) = 4.5x.
#[differentiate]
fn methods_on_a_built_struct(x: f64) -> f64 {
    let d = V2::new(2.0, x) * 0.5 - V2 { x, y: 1.0 };
    (V2 { x, y: 1.0 }).size2() + V2::new(2.0, x).dot(&V2 { x, y: 1.0 }) + d.size2()
}

type Case = (
    &'static str,
    fn(f64) -> f64,
    fn(f64) -> (f64, f64),
    fn(f64) -> f64,
);

#[test]
fn operators_and_array_rule_names_on_locals_of_a_struct() {
    let cases: [Case; 6] = [
        (
            "operator on elements of a declared Vec<V2>",
            operator_on_elements_of_a_declared_vec,
            operator_on_elements_of_a_declared_vec_grad,
            |x| 4.0 * x - 6.0,
        ),
        (
            "operator on elements of vec![a, b]",
            operator_on_elements_of_a_vec_of_locals,
            operator_on_elements_of_a_vec_of_locals_grad,
            |x| 4.0 * x - 6.0,
        ),
        (
            "dot of locals",
            method_named_like_an_array_rule_on_locals,
            method_named_like_an_array_rule_on_locals_grad,
            |x| 2.0 * x - 3.0,
        ),
        (
            "pushes of operator results",
            pushes_of_operator_results,
            pushes_of_operator_results_grad,
            |x| 3.0 * x * x - 6.0 * x + 1.0,
        ),
        (
            "dot on operator results",
            array_rule_names_on_operator_results,
            array_rule_names_on_operator_results_grad,
            |x| 2.0 * x + 3.0,
        ),
        (
            "methods and operators on a built struct",
            methods_on_a_built_struct,
            methods_on_a_built_struct_grad,
            |x| 4.5 * x,
        ),
    ];
    for (name, f, grad, analytic) in cases {
        for x in [0.7, -1.3] {
            let (y, d) = grad(x);
            assert_eq!(y, f(x), "{name}: value");
            close(name, d, analytic(x), 1e-12);
            fd(name, f, x, d);
        }
    }
}

/// Locals declared with the struct's type (`let b: V3 = ..`) whatever built them (a function,
/// a chain of methods): `b.dot(&a)` is `V3::dot`, `a.cross(&c)` is `V3::cross`. With b = (a × c)·2: f = b·a + b·b = 0 + 4|a × c|², so
/// ∂f/∂a = 8 c × (a × c), ∂f/∂c = 8 (a × c) × a.
#[differentiate]
fn v3(s: &[f64]) -> V3 {
    V3 {
        x: s[0],
        y: s[1],
        z: s[2],
    }
}

#[differentiate]
fn declared_type_dot(a: &[f64], c: &[f64]) -> f64 {
    let a: V3 = v3(a);
    let c: V3 = v3(c);
    let b: V3 = a.cross(&c).scale(2.0);
    b.dot(&a) + b.dot(&b)
}

#[test]
fn methods_named_like_array_rules_on_a_local_declared_with_the_type() {
    let (a, c) = ([0.3, -1.2, 0.7], [1.1, 0.4, -0.5]);
    let ac = v(&a).cross(&v(&c));
    let (_, (ga, gc)) = declared_type_dot_grad(&a, &c);
    close_all("∂a", &ga, &flat(&v(&c).cross(&ac).scale(8.0)));
    close_all("∂c", &gc, &flat(&ac.cross(&v(&a)).scale(8.0)));
    fd_vec("∂a", |p| declared_type_dot(p, &c), &a, &ga);
    fd_vec("∂c", |p| declared_type_dot(&a, p), &c, &gc);
}

/// Items of a `Vec` of the struct, in a `for` loop and in a closure: `p.dot(&c)` and `p.sum()`
/// are `V3::dot` and `V3::sum`, as on `ps[i]`. With pₖ = (k+1)·a: f = Σₖ (k+1)·a·c + Σₖ (k+1)·Σa
/// over k = 0, 1, 2, so ∂f/∂a = 6c + 6·(1, 1, 1), ∂f/∂c = 6a.
#[differentiate]
fn array_rule_names_on_items(a: &[f64], c: &[f64]) -> f64 {
    let c = V3 {
        x: c[0],
        y: c[1],
        z: c[2],
    };
    let mut ps = Vec::new();
    for k in 0..3 {
        let w = k as f64 + 1.0;
        ps.push(V3 {
            x: w * a[0],
            y: w * a[1],
            z: w * a[2],
        });
    }
    let mut s = 0.0;
    for p in &ps {
        s += p.dot(&c);
    }
    s + ps.iter().map(|p| p.sum()).sum::<f64>()
}

#[test]
fn methods_named_like_array_rules_on_items_of_a_vec_of_the_struct() {
    let (a, c) = ([0.3, -1.2, 0.7], [1.1, 0.4, -0.5]);
    let (y, (ga, gc)) = array_rule_names_on_items_grad(&a, &c);
    assert_eq!(y, array_rule_names_on_items(&a, &c));
    let want_a: Vec<f64> = c.iter().map(|ci| 6.0 * ci + 6.0).collect();
    close_all("∂a", &ga, &want_a);
    close_all("∂c", &gc, &a.map(|ai| 6.0 * ai));
    fd_vec("∂a", |p| array_rule_names_on_items(p, &c), &a, &ga);
    fd_vec("∂c", |p| array_rule_names_on_items(&a, p), &c, &gc);
}

/// A tuple struct, as users write small vector types: built by its constructor (`Pair(a, b)`,
/// `Self(..)` in its methods), read by position (`p.0`), as a parameter and in a `Vec`.
#[derive(Clone, Copy, Debug, Differentiable)]
struct Pair(f64, f64);

#[differentiate(hessian)]
impl Pair {
    fn rotated(&self, t: f64) -> Self {
        let (s, c) = t.sin_cos();
        Self(c * self.0 - s * self.1, s * self.0 + c * self.1)
    }
    fn dot(&self, o: &Pair) -> f64 {
        self.0 * o.0 + self.1 * o.1
    }
}

/// A newtype around a float.
#[derive(Clone, Copy, Debug, Differentiable)]
struct Meters(f64);

#[differentiate(hessian)]
fn pair_energy(p: Pair, m: Meters) -> f64 {
    p.0 * p.0 * m.0 + p.1
}

/// f = p·q + E(q, m) + Σ over the three pairs (xₖ, 2xₖ₊₁)·q, with q = p rotated by t.
#[differentiate(hessian)]
fn tuple_structs(x: &[f64]) -> f64 {
    let p = Pair(x[0], x[1]);
    let q = p.rotated(x[2]);
    let m = Meters(x[3] * 2.0);
    let mut ps = Vec::new();
    for k in 0..3 {
        ps.push(Pair(x[k], 2.0 * x[k + 1]));
    }
    let s: f64 = ps.iter().map(|r| r.dot(&q)).sum();
    p.dot(&q) + pair_energy(q, m) + s
}

#[test]
fn tuple_structs_built_by_their_constructors() {
    for x in [vec![0.7f64, -1.3, 0.4, 1.1], vec![-0.2, 0.9, 2.0, 0.5]] {
        // q = R(t)p: q·p = cos t·|p|²; E = q₀²·2x₃ + q₁; Σₖ (xₖ q₀ + 2xₖ₊₁ q₁).
        let (p0, p1, t) = (x[0], x[1], x[2]);
        let (s, c) = t.sin_cos();
        let (q0, q1) = (c * p0 - s * p1, s * p0 + c * p1);
        let (sx, sy) = (x[0] + x[1] + x[2], 2.0 * (x[1] + x[2] + x[3]));
        // ∂/∂q of (E + Σ): (4x₃q₀ + sx, 1 + sy); ∂q/∂p = R(t), ∂q/∂t = (−q₁, q₀).
        let (gq0, gq1) = (4.0 * x[3] * q0 + sx, 1.0 + sy);
        let want = [
            2.0 * c * p0 + c * gq0 + s * gq1 + q0,
            2.0 * c * p1 - s * gq0 + c * gq1 + q0 + 2.0 * q1,
            -s * (p0 * p0 + p1 * p1) - q1 * gq0 + q0 * gq1 + q0 + 2.0 * q1,
            2.0 * q0 * q0 + 2.0 * q1,
        ];
        let (y, g) = tuple_structs_grad(&x);
        assert_eq!(y, tuple_structs(&x));
        close_all("tuple structs", &g, &want);
        fd_vec("tuple structs", tuple_structs, &x, &g);
        forward("tuple structs").check(
            &x,
            |x| tuple_structs(x),
            |x, v| tuple_structs_jvp(x, v),
            |x, w| {
                let (y, back) = tuple_structs_vjp(x);
                (y, back(w))
            },
        );
        let d = vec![0.3, -1.0, 0.5, 2.0];
        let (_, _, hv) = tuple_structs_hvp(&x, &d);
        let r = autodiff::check::hvpcheck(|x: &Vec<f64>| tuple_structs_grad(x).1, &x, &d, &hv);
        assert!(r.passed(), "tuple structs: {r}");
    }
    // The struct's own gradient is a value of the struct.
    let (_, (gp, gm)) = pair_energy_grad(Pair(0.5, -2.0), Meters(3.0));
    close_all("∂p", &[gp.0, gp.1], &[3.0, 1.0]);
    close_all("∂m", &[gm.0], &[0.25]);
}

/// A random-number generator of the user's, made inside the differentiated function: a struct
/// of integer fields whose `&mut self` method returns a float. It holds no differentiated
/// value, so its methods run as written, the state carried from call to call.
struct Lcg(u64);

struct LcgNamed {
    state: u64,
}

impl Lcg {
    fn sample(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl LcgNamed {
    fn sample(&mut self) -> f64 {
        let mut inner = Lcg(self.state);
        let u = inner.sample();
        self.state = inner.0;
        u
    }
}

/// y ← y·x + uₖ (uₖ the k-th sample of each generator, summed), n times.
#[differentiate]
fn noisy_recurrence(x: f64, n: usize) -> f64 {
    let mut rng = Lcg(7);
    let mut other = LcgNamed { state: 7 };
    let mut y = x;
    for _ in 0..n {
        y = y * x + rng.sample() + other.sample();
    }
    y
}

/// The same with the generators seeded from a parameter (an integer variable is data too).
#[differentiate]
fn noisy_recurrence_seeded(x: f64, n: usize, seed: u64) -> f64 {
    let mut rng = Lcg(seed);
    let mut other = LcgNamed { state: seed };
    let mut y = x;
    for _ in 0..n {
        y = y * x + rng.sample() + other.sample();
    }
    y
}

#[test]
fn generators_of_the_user_run_as_written() {
    for x in [0.7, -1.3] {
        let (v, d) = noisy_recurrence_seeded_grad(x, 5, 7);
        assert_eq!((v, d), noisy_recurrence_grad(x, 5));
        assert_eq!(v, noisy_recurrence_seeded(x, 5, 7));
        let (v9, _) = noisy_recurrence_seeded_grad(x, 5, 9);
        assert_eq!(v9, noisy_recurrence_seeded(x, 5, 9));
    }
    for x in [0.7, -1.3] {
        // The samples as the plain code draws them; dy ← dy·x + y (forward mode by hand).
        let mut rng = Lcg(7);
        let (mut y, mut dy) = (x, 1.0);
        for _ in 0..5 {
            let u = rng.sample();
            dy = dy * x + y;
            y = y * x + u + u;
        }
        let (v, d) = noisy_recurrence_grad(x, 5);
        assert_eq!(v, noisy_recurrence(x, 5));
        assert_eq!(v, y);
        close("noisy recurrence", d, dy, 1e-12);
        fd("noisy recurrence", |x| noisy_recurrence(x, 5), x, d);
    }
}

/// A `Copy` struct whose `&self` methods call its methods taking `self` by value, as in plain
/// Rust (`self.omega()` auto-copies the receiver), and the other way round.
#[derive(Clone, Copy, Debug, Differentiable)]
struct Osc {
    k: f64,
    m: f64,
}

#[differentiate(hessian)]
impl Osc {
    fn omega(self) -> f64 {
        (self.k / self.m).sqrt()
    }
    fn period(self) -> f64 {
        2.0 * std::f64::consts::PI / self.omega()
    }
    fn phase(&self, t: f64) -> f64 {
        self.omega() * t + self.period()
    }
}

#[test]
fn ref_self_method_calls_a_by_value_method() {
    for (k, m, t) in [(2.0, 0.5, 0.3), (0.7, 1.9, -1.1), (3.1, 2.2, 0.8)] {
        let o = Osc { k, m };
        let (v, (g, dt)) = o.phase_grad(t);
        assert_eq!(v, o.phase(t));
        // phase = √(k/m)·t + 2π·√(m/k)
        let w = (k / m).sqrt();
        let tau = 2.0 * std::f64::consts::PI / w;
        close("dphase/dt", dt, w, 1e-12);
        close("dphase/dk", g.k, t * w / (2.0 * k) - tau / (2.0 * k), 1e-12);
        close(
            "dphase/dm",
            g.m,
            -t * w / (2.0 * m) + tau / (2.0 * m),
            1e-12,
        );
        fd("phase in t", |t| o.phase(t), t, dt);
        fd("phase in k", |k| Osc { k, m }.phase(t), k, g.k);
        fd("phase in m", |m| Osc { k, m }.phase(t), m, g.m);
        let (_, pb) = o.phase_vjp(t);
        let (g2, dt2) = pb(-2.5);
        close("seeded dt", dt2, -2.5 * dt, 1e-12);
        close("seeded dk", g2.k, -2.5 * g.k, 1e-12);
        close("seeded dm", g2.m, -2.5 * g.m, 1e-12);
        forward("ref self calls by-value self").check(
            &(o, t),
            |q| q.0.phase(q.1),
            |q, v| q.0.phase_jvp(q.1, &v.0, v.1),
            |q, w| {
                let (y, back) = q.0.phase_vjp(q.1);
                (y, back(w))
            },
        );
        // The Hessian-vector product along (dk, dm, dt) = (0, 0, 1): ∂/∂t of the gradient,
        // (t·w/(2k), −t·w/(2m), w)' in t = (w/(2k), −w/(2m), 0).
        let (y, g3, (hk, ht)) = o.phase_hvp(t, &Osc { k: 0.0, m: 0.0 }, 1.0);
        assert_eq!(y, o.phase(t));
        close("hvp gradient dt", g3.1, dt, 1e-12);
        close("hvp dk", hk.k, w / (2.0 * k), 1e-12);
        close("hvp dm", hk.m, -w / (2.0 * m), 1e-12);
        close("hvp dt", ht, 0.0, 1e-12);
    }
}

/// What a closure returns is the struct where the closure says so: a literal (`at`), a declared
/// result type (`shifted`), a local it builds and returns (`grown`); its methods are then the
/// struct's on the call (`at(w).dot(b)`) and on a local bound to it (`p.sub(&q)`).
#[differentiate]
fn closure_results(a: &V3, b: &V3, w: f64) -> f64 {
    let at = |t: f64| V3 {
        x: t.cos(),
        y: t.sin(),
        z: t * w,
    };
    let shifted = |p: &V3| -> V3 { p.plus(*b) };
    let grown = |k: f64| {
        let mut s = V3 { x: k, y: 0.5, z: w };
        s = s.plus(*a);
        s
    };
    let p = at(a.x);
    let q = at(b.y);
    p.sub(&q).norm() + at(w).dot(b) + shifted(&q).sum() + grown(2.0).cross(b).norm()
}

/// `closure_results` without the closures.
#[differentiate]
fn closure_results_inline(a: &V3, b: &V3, w: f64) -> f64 {
    let p = V3 {
        x: a.x.cos(),
        y: a.x.sin(),
        z: a.x * w,
    };
    let q = V3 {
        x: b.y.cos(),
        y: b.y.sin(),
        z: b.y * w,
    };
    let r = V3 {
        x: w.cos(),
        y: w.sin(),
        z: w * w,
    };
    let s = V3 {
        x: 2.0,
        y: 0.5,
        z: w,
    };
    p.sub(&q).norm() + r.dot(b) + V3::sum(&q.plus(*b)) + s.plus(*a).cross(b).norm()
}

/// A closure's parameter declared as a slice of the struct (`|p: &[V2], i| p[i + 1] - p[i]`):
/// the elements' operators are the struct's, as on a parameter `ps: &[V2]`.
#[differentiate]
fn closure_given_structs(ps: &[V2], w: f64) -> f64 {
    let seg = |p: &[V2], i: usize| {
        let d = (p[i + 1] - p[i]) * w;
        d.x * d.x + d.y * d.y
    };
    let mut total = 0.0;
    for i in 0..ps.len() - 1 {
        total += seg(ps, i);
    }
    total
}

/// A local copy of a parameter of the struct's elements (`pos0.to_vec()`) has the struct's
/// operators on its elements: two steps of `v ← v − p·dt, p ← p + v·dt`.
#[differentiate]
fn copied_elements(pos0: &[V2], vel0: &[V2], dt: f64) -> f64 {
    let mut pos = pos0.to_vec();
    let mut vel = vel0.to_vec();
    for _ in 0..2 {
        for i in 0..pos.len() {
            vel[i] = vel[i] - pos[i] * dt;
            pos[i] = pos[i] + vel[i] * dt;
        }
    }
    pos[0].x * vel[1].y + pos[1].x * pos[1].y
}

#[test]
fn structs_through_closures_and_copies() {
    let (a, b) = (v(&A), v(&B));
    for w in [0.3, -1.1, 2.0] {
        let (y, (ga, gb, gw)) = closure_results_grad(&a, &b, w);
        let (y0, (ga0, gb0, gw0)) = closure_results_inline_grad(&a, &b, w);
        close("value", y, closure_results(&a, &b, w), 1e-15);
        close("inline value", y0, y, 1e-15);
        close_all("∂a, ∂b", &both(&(ga, gb)), &both(&(ga0, gb0)));
        close("∂w", gw, gw0, 1e-12);
        let f = |p: &[f64]| closure_results(&v(&p[..3]), &v(&p[3..6]), p[6]);
        let mut g = both(&(ga, gb));
        g.push(gw);
        fd_vec("closure results", f, &[&A[..], &B[..], &[w]].concat(), &g);
        let (_, pb) = closure_results_vjp(&a, &b, w);
        let (sa, sb, sw) = pb(-2.5);
        let seeded: Vec<f64> = g.iter().map(|d| -2.5 * d).collect();
        let mut got = both(&(sa, sb));
        got.push(sw);
        close_all("seeded", &got, &seeded);
    }
    let raw = [0.3, -0.7, 1.1, 0.4, -0.2, 0.9, 0.8, 1.5];
    let ps: Vec<V2> = raw.chunks(2).map(v2).collect();
    let w = 1.7;
    let (y, (gp, gw)) = closure_given_structs_grad(&ps, w);
    close("value", y, closure_given_structs(&ps, w), 1e-15);
    // Σ w²|pᵢ₊₁ − pᵢ|²: ∂/∂pᵢ = 2w²((pᵢ − pᵢ₋₁) − (pᵢ₊₁ − pᵢ)), ∂/∂w = 2y/w.
    let mut expected = vec![0.0; raw.len()];
    for i in 0..3 {
        for c in 0..2 {
            let d = raw[2 * i + 2 + c] - raw[2 * i + c];
            expected[2 * i + 2 + c] += 2.0 * w * w * d;
            expected[2 * i + c] -= 2.0 * w * w * d;
        }
    }
    let got: Vec<f64> = gp.iter().flat_map(|p| [p.x, p.y]).collect();
    close_all("∂p", &got, &expected);
    close("∂w", gw, 2.0 * y / w, 1e-12);
    let pos: Vec<V2> = raw[..4].chunks(2).map(v2).collect();
    let vel: Vec<V2> = raw[4..].chunks(2).map(v2).collect();
    let dt = 0.1;
    let (y, (gp, gv, gdt)) = copied_elements_grad(&pos, &vel, dt);
    close("value", y, copied_elements(&pos, &vel, dt), 1e-15);
    let f = |p: &[f64]| {
        let pos: Vec<V2> = p[..4].chunks(2).map(v2).collect();
        let vel: Vec<V2> = p[4..8].chunks(2).map(v2).collect();
        copied_elements(&pos, &vel, p[8])
    };
    let mut g: Vec<f64> = gp.iter().chain(&gv).flat_map(|p| [p.x, p.y]).collect();
    g.push(gdt);
    fd_vec("copied elements", f, &[&raw[..], &[dt]].concat(), &g);
}

/// A body whose position and velocity are `V3`s. On a field, the macro does not see the
/// field's type: a method named like an array rule (`dot`, `sum`) or like a library type's
/// (`norm`) given no parameter of the struct is not taken for the struct's, and the error says
/// to call it through its type (`V3::dot(&self.vel, &self.vel)`), which these check is followed.
#[derive(Clone, Debug, Differentiable)]
struct Particle {
    pos: V3,
    vel: V3,
    m: f64,
}

#[differentiate]
impl Particle {
    /// `½ m |v|² + |2v| + |p|`: `∂/∂v = m v + 2v/|v|`, `∂/∂p = p/|p|`, `∂/∂m = ½|v|²`.
    fn energy(&self) -> f64 {
        0.5 * self.m * V3::dot(&self.vel, &self.vel)
            + self.vel.scale(2.0).norm()
            + V3::norm(&self.pos)
    }
    /// `m (v·d) + Σ p`, a field's `dot` given a parameter of the struct, as written:
    /// `∂/∂v = m d`, `∂/∂p = 1`, `∂/∂m = v·d`, `∂/∂d = m v`.
    fn along(&self, d: &V3) -> f64 {
        self.m * self.vel.dot(d) + V3::sum(&self.pos)
    }
}

fn particle(s: &[f64]) -> Particle {
    Particle {
        pos: v(&s[..3]),
        vel: v(&s[3..6]),
        m: s[6],
    }
}

fn particle_flat(b: &Particle) -> Vec<f64> {
    [&flat(&b.pos)[..], &flat(&b.vel)[..], &[b.m]].concat()
}

const PARTICLE: [f64; 7] = [1.0, -2.0, 0.5, 0.3, 1.5, -0.75, 2.5];

#[test]
fn methods_of_a_field_called_through_its_type() {
    let b = particle(&PARTICLE);
    let (y, g) = b.energy_grad();
    let (p, vel, m) = (&PARTICLE[..3], &PARTICLE[3..6], PARTICLE[6]);
    let vv: f64 = vel.iter().map(|x| x * x).sum();
    let pn = p.iter().map(|x| x * x).sum::<f64>().sqrt();
    close("energy", y, 0.5 * m * vv + 2.0 * vv.sqrt() + pn, 1e-12);
    let gp: Vec<f64> = p.iter().map(|x| x / pn).collect();
    let gv: Vec<f64> = vel.iter().map(|x| m * x + 2.0 * x / vv.sqrt()).collect();
    let expected = [&gp[..], &gv[..], &[0.5 * vv]].concat();
    close_all("∂energy", &particle_flat(&g), &expected);
    fd_vec(
        "energy",
        |s| particle(s).energy(),
        &PARTICLE,
        &particle_flat(&g),
    );
    let (y2, pb) = b.energy_vjp();
    close("energy (vjp)", y2, y, 1e-12);
    let seeded: Vec<f64> = expected.iter().map(|e| 2.5 * e).collect();
    close_all("∂energy seeded 2.5", &particle_flat(&pb(2.5)), &seeded);
}

#[test]
fn a_field_dot_given_a_parameter_of_the_struct() {
    let (b, d) = (particle(&PARTICLE), v(&B));
    let (y, (gb, gd)) = b.along_grad(&d);
    let (vel, m) = (&PARTICLE[3..6], PARTICLE[6]);
    let vd: f64 = vel.iter().zip(&B).map(|(x, y)| x * y).sum();
    close(
        "along",
        y,
        m * vd + PARTICLE[0] + PARTICLE[1] + PARTICLE[2],
        1e-12,
    );
    let gv: Vec<f64> = B.iter().map(|x| m * x).collect();
    let expected_b = [&[1.0, 1.0, 1.0][..], &gv[..], &[vd]].concat();
    let expected_d: Vec<f64> = vel.iter().map(|x| m * x).collect();
    close_all("∂along/∂body", &particle_flat(&gb), &expected_b);
    close_all("∂along/∂d", &flat(&gd), &expected_d);
    let all = [&PARTICLE[..], &B[..]].concat();
    let f = |s: &[f64]| particle(&s[..7]).along(&v(&s[7..]));
    fd_vec(
        "along",
        f,
        &all,
        &[particle_flat(&gb), flat(&gd).to_vec()].concat(),
    );
    let (_, pb) = b.along_vjp(&d);
    let (sb, sd) = pb(-1.5);
    let seeded: Vec<f64> = [expected_b, expected_d]
        .concat()
        .iter()
        .map(|e| -1.5 * e)
        .collect();
    close_all(
        "∂along seeded −1.5",
        &[particle_flat(&sb), flat(&sd).to_vec()].concat(),
        &seeded,
    );
}

/// `v_i · p_j + Σ p_i` over a slice of bodies, through the type on elements' fields:
/// `∂/∂v_i = p_j`, `∂/∂p_j = v_i`, `∂/∂p_i = 1`.
#[differentiate]
fn particle_pair(bodies: &[Particle], i: usize, j: usize) -> f64 {
    V3::dot(&bodies[i].vel, &bodies[j].pos) + V3::sum(&bodies[i].pos)
}

#[test]
fn methods_of_an_elements_field_called_through_its_type() {
    let other = [0.2, 0.4, -1.0, -0.5, 2.0, 1.0, 1.5];
    let bodies = vec![particle(&PARTICLE), particle(&other)];
    let (y, g) = particle_pair_grad(&bodies, 0, 1);
    let vd: f64 = PARTICLE[3..6]
        .iter()
        .zip(&other[..3])
        .map(|(x, y)| x * y)
        .sum();
    close(
        "particle_pair",
        y,
        vd + PARTICLE[0] + PARTICLE[1] + PARTICLE[2],
        1e-12,
    );
    let expected = [
        &[1.0, 1.0, 1.0][..],
        &other[..3],
        &[0.0],
        &PARTICLE[3..6],
        &[0.0; 4],
    ]
    .concat();
    let gf: Vec<f64> = g.iter().flat_map(particle_flat).collect();
    close_all("∂particle_pair", &gf, &expected);
    let f = |s: &[f64]| particle_pair(&[particle(&s[..7]), particle(&s[7..])], 0, 1);
    fd_vec(
        "particle_pair",
        f,
        &[&PARTICLE[..], &other[..]].concat(),
        &gf,
    );
    let (_, pb) = particle_pair_vjp(&bodies, 0, 1);
    let seeded: Vec<f64> = expected.iter().map(|e| 0.5 * e).collect();
    let gs: Vec<f64> = pb(0.5).iter().flat_map(particle_flat).collect();
    close_all("∂particle_pair seeded 0.5", &gs, &seeded);
}

/// `norm`, a method ndarray-linalg's arrays have too, is the struct's on a field, as vector
/// code writes it.
#[differentiate]
impl Particle {
    /// `m |v|`: `∂/∂v = m v/|v|`, `∂/∂m = |v|`.
    fn momentum(&self) -> f64 {
        self.m * self.vel.norm()
    }
}

#[derive(Clone, Debug, Differentiable)]
struct TwoParticles {
    a: Particle,
    b: Particle,
}

/// `|v_a| |p_b|` of a field of a field: `∂/∂v_a = |p_b| v_a/|v_a|`, `∂/∂p_b = |v_a| p_b/|p_b|`.
#[differentiate]
fn pair_norms(s: &TwoParticles) -> f64 {
    s.a.vel.norm() * s.b.pos.norm()
}

/// The same of elements of a slice.
#[differentiate]
fn element_norms(ps: &[Particle], i: usize, j: usize) -> f64 {
    ps[i].vel.norm() * ps[j].pos.norm()
}

#[test]
fn norm_of_a_field_is_the_structs() {
    let other = [0.2, 0.4, -1.0, -0.5, 2.0, 1.0, 1.5];
    let (p, q) = (particle(&PARTICLE), particle(&other));
    let n = |s: &[f64]| s.iter().map(|x| x * x).sum::<f64>().sqrt();
    let (nv, m) = (n(&PARTICLE[3..6]), PARTICLE[6]);

    let (y, g) = p.momentum_grad();
    close("momentum", y, m * nv, 1e-12);
    let gv: Vec<f64> = PARTICLE[3..6].iter().map(|x| m * x / nv).collect();
    let expected = [&[0.0; 3][..], &gv[..], &[nv]].concat();
    close_all("∂momentum", &particle_flat(&g), &expected);
    fd_vec("momentum", |s| particle(s).momentum(), &PARTICLE, &expected);
    let (_, pb) = p.momentum_vjp();
    let seeded: Vec<f64> = expected.iter().map(|e| -0.75 * e).collect();
    close_all(
        "∂momentum seeded −0.75",
        &particle_flat(&pb(-0.75)),
        &seeded,
    );

    // ∂/∂(a, b) of |v_a| |p_b|, as 14 numbers (a then b).
    let np = n(&other[..3]);
    let ga: Vec<f64> = PARTICLE[3..6].iter().map(|x| np * x / nv).collect();
    let gb: Vec<f64> = other[..3].iter().map(|x| nv * x / np).collect();
    let expected = [&[0.0; 3][..], &ga[..], &[0.0], &gb[..], &[0.0; 4]].concat();
    let flat2 = |a: &Particle, b: &Particle| [particle_flat(a), particle_flat(b)].concat();
    let all = [&PARTICLE[..], &other[..]].concat();

    let s = TwoParticles {
        a: p.clone(),
        b: q.clone(),
    };
    let (y, g) = pair_norms_grad(&s);
    close("pair_norms", y, nv * np, 1e-12);
    close_all("∂pair_norms", &flat2(&g.a, &g.b), &expected);
    let f = |x: &[f64]| {
        pair_norms(&TwoParticles {
            a: particle(&x[..7]),
            b: particle(&x[7..]),
        })
    };
    fd_vec("pair_norms", f, &all, &expected);
    let (_, pb) = pair_norms_vjp(&s);
    let g = pb(3.0);
    let seeded: Vec<f64> = expected.iter().map(|e| 3.0 * e).collect();
    close_all("∂pair_norms seeded 3", &flat2(&g.a, &g.b), &seeded);

    let ps = vec![p, q];
    let (y, g) = element_norms_grad(&ps, 0, 1);
    close("element_norms", y, nv * np, 1e-12);
    close_all("∂element_norms", &flat2(&g[0], &g[1]), &expected);
    let f = |x: &[f64]| element_norms(&[particle(&x[..7]), particle(&x[7..])], 0, 1);
    fd_vec("element_norms", f, &all, &expected);
    let (_, pb) = element_norms_vjp(&ps, 0, 1);
    let g = pb(-2.0);
    let seeded: Vec<f64> = expected.iter().map(|e| -2.0 * e).collect();
    close_all("∂element_norms seeded −2", &flat2(&g[0], &g[1]), &seeded);
}
