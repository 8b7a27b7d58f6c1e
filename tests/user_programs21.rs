//! Fitting and optimisation code written with traits and parameter structs.
//!
//! A parameter written as a pattern, `fn pair_energy(&self, (a, b): (f64, f64)) -> f64` in a
//! trait's impl block (a spring between two positions passed as a pair), was rejected with
//! "parameter patterns are not supported; name the parameter and destructure it with `let`".
//! Such a parameter is now the parameter it stands for, bound by the `let` of its pattern at
//! the top of the body, as Rust defines it: tuples, arrays, references to them and struct
//! patterns, in free functions and methods, with `hessian` too. The function as written keeps
//! its patterns.
//!
//! A `&mut self` method called as a statement on a `mut` local that another method of the
//! struct made, `let mut m = p.scaled(k); m.nudge(0.01);` (a model copied with a change, then
//! adjusted in place), was rustc's "a method of `Mm` called in a differentiated function cannot
//! take its receiver as `&mut Mm`" inside the generated code, whose note says that such a call
//! is followed: the call was taken for one of a method taking `&self`, as on such a local a
//! method is taken to be the struct's. It is now the change of the local it is, `m =
//! Mm::__ad_mut_nudge(m, 0.01)`, as on a local built by a literal or `new`, with `hessian` too.
//! So is one on a `mut` copy of a field, `let mut a = pr.a; a.normalize();` (the directions of
//! two arms normalised before their angle), which was the same error: the field's type, which
//! the macro does not see, is named through the runtime there, as for a method taking `&self`.
//!
//! The same method on the items of a loop by mutable reference over a `Vec` that a method
//! returned, `let mut es = self.edges(); for e in es.iter_mut() { e.normalize(); }`, was rustc's
//! "cannot borrow value as mutable" inside the generated code: the macro does not see the
//! elements' type there. That is now an error that says to declare the `Vec` with its type,
//! `let mut es: Vec<Dir> = self.edges();`, which is followed (below).
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. Parameters written as patterns.
// ---------------------------------------------------------------------------------------------

trait PairEnergy {
    fn pair_energy(&self, pair: (f64, f64)) -> f64;
}

#[derive(Clone, Copy, Debug, Differentiable)]
struct Spring {
    k: f64,
    l0: f64,
}

#[differentiate]
impl PairEnergy for Spring {
    /// `E = k/2·(b − a − l0)²`.
    fn pair_energy(&self, (a, b): (f64, f64)) -> f64 {
        0.5 * self.k * (b - a - self.l0).powi(2)
    }
}

/// `E = Σ k/2·(x_{i+1} − x_i − l0)²`: with `d_i = x_{i+1} − x_i − l0`, `∂E/∂x_i = k·(d_{i−1} −
/// d_i)` (the missing ends 0), `∂E/∂k = Σ d_i²/2`, `∂E/∂l0 = −k·Σ d_i`.
#[differentiate(wrt(s, xs))]
fn chain_energy(s: &Spring, xs: &[f64]) -> f64 {
    let mut e = 0.0;
    for w in xs.windows(2) {
        e += s.pair_energy((w[0], w[1]));
    }
    e
}

/// `|q − p|`: `∂/∂p = −(q − p)/|q − p|`, `∂/∂q = (q − p)/|q − p|`.
#[differentiate]
fn dist([x0, y0]: [f64; 2], &(x1, y1): &(f64, f64)) -> f64 {
    ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt()
}

/// `k/2·(x − l0)²` of a struct pattern beside a `mut` parameter: `∂/∂k = (x − l0)²/2`,
/// `∂/∂l0 = −k·(x − l0)`, `∂/∂x = k·(x − l0)`.
#[differentiate]
fn spring_pe(Spring { k, l0 }: Spring, mut x: f64) -> f64 {
    x -= l0;
    0.5 * k * x * x
}

/// `a²b + sin(c)·b`: gradient `(2ab, a² + sin c, b·cos c)`, `H·e_a = (2b, 2a, 0)`.
#[differentiate(hessian)]
fn tuple_cubic((a, b): (f64, f64), c: f64) -> f64 {
    a * a * b + c.sin() * b
}

#[test]
fn parameters_written_as_patterns() {
    let s = Spring { k: 2.0, l0: 0.8 };
    let xs = vec![0.1, 1.0, 2.1, 2.7];
    let (e, (gs, gx)) = chain_energy_grad(&s, &xs);
    close("chain: value", e, chain_energy(&s, &xs), TOL);
    let d: Vec<f64> = xs.windows(2).map(|w| w[1] - w[0] - s.l0).collect();
    let want_x: Vec<f64> = (0..4)
        .map(|i| {
            let left = if i > 0 { d[i - 1] } else { 0.0 };
            let right = if i < 3 { d[i] } else { 0.0 };
            s.k * (left - right)
        })
        .collect();
    close_all("chain: ∂x", &gx, &want_x);
    close("chain: ∂k", gs.k, d.iter().map(|v| v * v / 2.0).sum(), TOL);
    close("chain: ∂l0", gs.l0, -s.k * d.iter().sum::<f64>(), TOL);
    fd_vec("chain: ∂x", |q| chain_energy(&s, q), &xs, &gx);
    fd_any("chain: ∂s", |q: &Spring| chain_energy(q, &xs), &s, &gs);

    let (p, q) = ([0.5, -0.2], (1.5, 0.7));
    let (v, (gp, gq)) = dist_grad(p, &q);
    close("dist: value", v, dist(p, &q), TOL);
    let (dx, dy) = (q.0 - p[0], q.1 - p[1]);
    let r = (dx * dx + dy * dy).sqrt();
    close_all("dist: ∂p", &gp, &[-dx / r, -dy / r]);
    close2("dist: ∂q", gq, (dx / r, dy / r));
    fd_any("dist: ∂q", |q: &(f64, f64)| dist(p, q), &q, &gq);

    let (v, (gs, gx)) = spring_pe_grad(s, 1.7);
    close("pe: value", v, spring_pe(s, 1.7), TOL);
    close("pe: ∂k", gs.k, 0.9 * 0.9 / 2.0, TOL);
    close("pe: ∂l0", gs.l0, -2.0 * 0.9, TOL);
    close("pe: ∂x", gx, 2.0 * 0.9, TOL);
    fd_any("pe: ∂s", |q: &Spring| spring_pe(*q, 1.7), &s, &gs);

    let (a, b, c) = (0.3, 1.2, 0.5);
    let (v, (gab, gc)) = tuple_cubic_grad((a, b), c);
    close("cubic: value", v, tuple_cubic((a, b), c), TOL);
    close2("cubic: ∂(a, b)", gab, (2.0 * a * b, a * a + c.sin()));
    close("cubic: ∂c", gc, b * c.cos(), TOL);
    let (_, _, (hab, hc)) = tuple_cubic_hvp((a, b), c, (1.0, 0.0), 0.0);
    close2("cubic: (H·e_a) in (a, b)", hab, (2.0 * b, 2.0 * a));
    close("cubic: (H·e_a) in c", hc, 0.0, TOL);
    fd3(
        "cubic",
        |a, b, c| tuple_cubic((a, b), c),
        (a, b, c),
        (gab.0, gab.1, gc),
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Two traits with a method of the same name, through differentiated methods of the type.
// ---------------------------------------------------------------------------------------------

trait Likelihood {
    fn log_density(&self, x: f64) -> f64;
}

trait Prior {
    fn log_density(&self, x: f64) -> f64;
}

#[derive(Clone, Debug, Differentiable)]
struct Normal {
    mu: f64,
    tau: f64,
}

#[differentiate]
impl Normal {
    /// `−τ/2·(x − μ)² + ln(τ)/2`.
    fn log_lik(&self, x: f64) -> f64 {
        -0.5 * self.tau * (x - self.mu).powi(2) + 0.5 * self.tau.ln()
    }

    /// `−μ²/2 − τ`.
    fn log_prior(&self) -> f64 {
        -0.5 * self.mu * self.mu - self.tau
    }
}

impl Likelihood for Normal {
    fn log_density(&self, x: f64) -> f64 {
        self.log_lik(x)
    }
}

impl Prior for Normal {
    fn log_density(&self, _x: f64) -> f64 {
        self.log_prior()
    }
}

/// `Σ log_lik(xᵢ) + log_prior`: `∂/∂μ = τ·Σ (xᵢ − μ) − μ`, `∂/∂τ = Σ (−(xᵢ − μ)²/2 + 1/(2τ))
/// − 1`.
#[differentiate(wrt(m))]
fn log_posterior(m: &Normal, xs: &[f64]) -> f64 {
    let ll: f64 = xs.iter().map(|&x| m.log_lik(x)).sum();
    ll + m.log_prior()
}

#[test]
fn two_traits_with_a_method_of_one_name() {
    let m = Normal { mu: 0.3, tau: 2.0 };
    let xs = [0.1, 0.5, -0.2];
    let (v, g) = log_posterior_grad(&m, &xs);
    let plain: f64 = xs
        .iter()
        .map(|&x| Likelihood::log_density(&m, x))
        .sum::<f64>()
        + Prior::log_density(&m, 0.0);
    close("posterior: value", v, plain, TOL);
    let want_mu = m.tau * xs.iter().map(|x| x - m.mu).sum::<f64>() - m.mu;
    let want_tau = xs
        .iter()
        .map(|x| -0.5 * (x - m.mu).powi(2) + 0.5 / m.tau)
        .sum::<f64>()
        - 1.0;
    close("posterior: ∂μ", g.mu, want_mu, TOL);
    close("posterior: ∂τ", g.tau, want_tau, TOL);
    fd_any("posterior", |q: &Normal| log_posterior(q, &xs), &m, &g);
}

// ---------------------------------------------------------------------------------------------
// 3. A `&mut self` method on a local that another method made.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Mm {
    vmax: f64,
    km: f64,
}

#[differentiate(hessian)]
impl Mm {
    fn scaled(&self, k: f64) -> Self {
        Mm {
            vmax: self.vmax * k,
            km: self.km,
        }
    }

    /// `km ← km + d·vmax`.
    fn nudge(&mut self, d: f64) {
        self.km += d * self.vmax;
    }

    fn rate(&self, s: f64) -> f64 {
        self.vmax * s / (self.km + s)
    }

    /// `½ Σ (rate(sᵢ) − vᵢ)²` of the model scaled by 1 and nudged by `d`.
    fn cost(&self, s: &[f64], v: &[f64], d: f64) -> f64 {
        let mut m = self.scaled(1.0);
        m.nudge(d);
        let mut c = 0.0;
        for i in 0..s.len() {
            c += 0.5 * (m.rate(s[i]) - v[i]).powi(2);
        }
        c
    }
}

/// `V = k·vmax`, `K = km + d·V`, `r = V·s/(K + s)`: `∂r/∂V = s/(K + s) − d·V·s/(K + s)²`,
/// `∂r/∂K = −V·s/(K + s)²`, so `∂r/∂vmax = k·∂r/∂V`, `∂r/∂km = ∂r/∂K`, `∂r/∂k = vmax·∂r/∂V`.
#[differentiate(wrt(p, k))]
fn nudged_rate(p: &Mm, k: f64, s: f64) -> f64 {
    let mut m = p.scaled(k);
    m.nudge(0.01);
    m.rate(s)
}

#[test]
fn a_mut_self_method_on_what_a_method_made() {
    let p = Mm { vmax: 2.0, km: 0.5 };
    let (k, s, d) = (1.5, 0.3, 0.01);
    let (r, (g, gk)) = nudged_rate_grad(&p, k, s);
    close("nudged: value", r, nudged_rate(&p, k, s), TOL);
    let big_v = k * p.vmax;
    let big_k = p.km + d * big_v;
    let dr_dv = s / (big_k + s) - d * big_v * s / (big_k + s).powi(2);
    let dr_dk = -big_v * s / (big_k + s).powi(2);
    close("nudged: ∂vmax", g.vmax, k * dr_dv, TOL);
    close("nudged: ∂km", g.km, dr_dk, TOL);
    close("nudged: ∂k", gk, p.vmax * dr_dv, TOL);
    fd_any("nudged: ∂p", |q: &Mm| nudged_rate(q, k, s), &p, &g);
    fd("nudged: ∂k", |k| nudged_rate(&p, k, s), k, gk);

    // The method in a `hessian` block: H·v against differences of the gradient.
    let sv = [0.02, 0.06, 0.11, 0.22, 0.56, 1.10];
    let vv = [0.76, 0.97, 1.23, 1.59, 1.91, 2.07];
    let m = Mm { vmax: 2.0, km: 0.1 };
    let (c, (g, _, _, _)) = m.cost_grad(&sv, &vv, d);
    close("cost: value", c, m.cost(&sv, &vv, d), TOL);
    fd_any("cost", |q: &Mm| q.cost(&sv, &vv, d), &m, &g);
    let dir = Mm {
        vmax: 0.3,
        km: -0.7,
    };
    let zero = vec![0.0; 6];
    let (_, _, (hv, _, _, _)) = m.cost_hvp(&sv, &vv, d, &dir, &zero, &zero, 0.0);
    let grad = |q: &[f64]| {
        let g = Mm {
            vmax: q[0],
            km: q[1],
        }
        .cost_grad(&sv, &vv, d)
        .1
        .0;
        vec![g.vmax, g.km]
    };
    hvp_against_fd(
        "cost",
        grad,
        &[m.vmax, m.km],
        &[dir.vmax, dir.km],
        &[hv.vmax, hv.km],
    );
}

#[derive(Clone, Copy, Debug, Differentiable)]
struct Dir {
    x: f64,
    y: f64,
}

#[differentiate]
impl Dir {
    fn normalize(&mut self) {
        let n = (self.x * self.x + self.y * self.y).sqrt();
        self.x /= n;
        self.y /= n;
    }
}

#[derive(Clone, Debug, Differentiable)]
struct Arms {
    a: Dir,
    b: Dir,
}

/// `cos θ = â·b̂` of the two arms, each normalised in a `mut` copy of its field: with `â = a/|a|`,
/// `∂/∂a = (b̂ − (â·b̂)·â)/|a|`, and the same for `b`.
#[differentiate]
fn arm_cosine(arms: &Arms) -> f64 {
    let mut a = arms.a;
    a.normalize();
    let mut b = arms.b.clone();
    b.normalize();
    a.x * b.x + a.y * b.y
}

#[test]
fn a_mut_self_method_on_a_copy_of_a_field() {
    let arms = Arms {
        a: Dir { x: 1.0, y: 0.2 },
        b: Dir { x: 0.5, y: 1.4 },
    };
    let (c, g) = arm_cosine_grad(&arms);
    close("cosine: value", c, arm_cosine(&arms), TOL);
    let unit = |d: Dir| {
        let n = (d.x * d.x + d.y * d.y).sqrt();
        (d.x / n, d.y / n, n)
    };
    let (ax, ay, na) = unit(arms.a);
    let (bx, by, nb) = unit(arms.b);
    let cos = ax * bx + ay * by;
    close2(
        "cosine: ∂a",
        (g.a.x, g.a.y),
        ((bx - cos * ax) / na, (by - cos * ay) / na),
    );
    close2(
        "cosine: ∂b",
        (g.b.x, g.b.y),
        ((ax - cos * bx) / nb, (ay - cos * by) / nb),
    );
    fd_any("cosine", arm_cosine, &arms, &g);
}

#[derive(Clone, Debug, Differentiable)]
struct Polygon {
    pts: Vec<Dir>,
}

#[differentiate]
impl Polygon {
    fn edges(&self) -> Vec<Dir> {
        let n = self.pts.len();
        (0..n)
            .map(|i| Dir {
                x: self.pts[(i + 1) % n].x - self.pts[i].x,
                y: self.pts[(i + 1) % n].y - self.pts[i].y,
            })
            .collect()
    }

    /// `Σ êᵢ × êᵢ₊₁` of the unit edges: the sum of the sines of the turning angles.
    fn turning(&self) -> f64 {
        let mut es: Vec<Dir> = self.edges();
        for e in es.iter_mut() {
            e.normalize();
        }
        let n = es.len();
        (0..n)
            .map(|i| es[i].x * es[(i + 1) % n].y - es[i].y * es[(i + 1) % n].x)
            .sum()
    }
}

#[test]
fn a_mut_self_method_on_the_items_of_a_declared_vec() {
    let p = Polygon {
        pts: vec![
            Dir { x: 0.0, y: 0.0 },
            Dir { x: 1.0, y: 0.1 },
            Dir { x: 0.8, y: 1.2 },
            Dir { x: -0.1, y: 0.7 },
        ],
    };
    let (t, g) = p.turning_grad();
    // The plain sum of the sines, from the points.
    let n = p.pts.len();
    let unit: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let (dx, dy) = (
                p.pts[(i + 1) % n].x - p.pts[i].x,
                p.pts[(i + 1) % n].y - p.pts[i].y,
            );
            let l = (dx * dx + dy * dy).sqrt();
            (dx / l, dy / l)
        })
        .collect();
    let want: f64 = (0..n)
        .map(|i| unit[i].0 * unit[(i + 1) % n].1 - unit[i].1 * unit[(i + 1) % n].0)
        .sum();
    close("turning: value", t, want, TOL);
    close("turning: plain", t, p.turning(), TOL);
    fd_any("turning", |q: &Polygon| q.turning(), &p, &g);
}

#[differentiate]
impl Polygon {
    fn xs(&self) -> Vec<f64> {
        self.pts.iter().map(|p| p.x).collect()
    }

    /// `Σ vᵢ·wᵢ` of `v = reverse(x₀, x₁, .., x_{n−1}, y₀)`, `w = (1, 2, .., n + 1)`: the `Vec` a
    /// method made changed by `push` and `reverse` (mutations of the `Vec`, not the struct's
    /// `&mut self` methods): `∂xⱼ = n + 1 − j`, `∂y₀ = 1`.
    fn reversed_score(&self) -> f64 {
        let mut v = self.xs();
        v.push(self.pts[0].y);
        v.reverse();
        v.iter().enumerate().map(|(i, a)| (i + 1) as f64 * a).sum()
    }
}

#[test]
fn a_vec_a_method_made_changed_by_its_own_mutations() {
    let p = Polygon {
        pts: vec![
            Dir { x: 0.5, y: 0.3 },
            Dir { x: 1.0, y: 0.1 },
            Dir { x: -0.2, y: 0.4 },
        ],
    };
    let (s, g) = p.reversed_score_grad();
    close("reversed: value", s, p.reversed_score(), TOL);
    close_all(
        "reversed: ∂x",
        &g.pts.iter().map(|d| d.x).collect::<Vec<_>>(),
        &[4.0, 3.0, 2.0],
    );
    close_all(
        "reversed: ∂y",
        &g.pts.iter().map(|d| d.y).collect::<Vec<_>>(),
        &[1.0, 0.0, 0.0],
    );
    fd_any("reversed", |q: &Polygon| q.reversed_score(), &p, &g);
}
