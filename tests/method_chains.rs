//! Methods of the user's own struct called as vector code calls them: in chains on what another
//! method returned (`a.sub(b).scale(2.0).norm()`), on a local bound to such a result
//! (`let d = a.sub(b); d.norm()`), and under names that array rules also have (`a.dot(&b)`,
//! `self.dot(self)` of a `V3`). Each gradient is compared with its analytic value (stated
//! beside each function) and with central finite differences; forward mode with the dot-product
//! test.

use autodiff::{Differentiable, differentiate};

mod common;
use common::{close_all, fd_vec, forward};

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
