//! A struct of the user's named by one capital letter (`P`, as a particle or a point often is):
//! in a free function, and in the methods of an `impl` block the attribute is on, it is the
//! struct, its methods and operators the struct's. Only where the macro sees a method without
//! its block may `P` be the block's type parameter; there the signature's `P` is an error that
//! says what to write (`tests/ui/impl_type_parameter.rs`).
//!
//! Each gradient is checked against central finite differences through `autodiff::check`.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct P {
    pub x: f64,
    pub m: f64,
}

#[differentiate]
impl P {
    fn energy(&self) -> f64 {
        self.m * self.x * self.x
    }
    fn scaled(&self, k: f64) -> P {
        P {
            x: self.x * k,
            m: self.m,
        }
    }
}

#[differentiate]
impl std::ops::Add for P {
    type Output = P;
    fn add(self, o: P) -> P {
        P {
            x: self.x + o.x,
            m: self.m + o.m,
        }
    }
}

/// The struct by its one-letter name: a slice's elements, a closure's parameter, a declared
/// local, a method's result, an operator's operands.
#[differentiate]
fn total(ps: &[P], k: f64) -> f64 {
    let e = |p: &P| p.energy();
    let mut s = 0.0;
    for p in ps.iter() {
        let q: P = p.scaled(k);
        s += q.energy() + e(p);
    }
    let first: P = ps[0];
    let both = first + ps[1];
    s + first.scaled(2.0).energy() + both.energy()
}

#[test]
fn a_struct_named_by_one_letter() {
    let ps = vec![P { x: 1.0, m: 2.0 }, P { x: -1.5, m: 3.1 }];
    let (y, g) = total_grad(&ps, 0.5);
    assert_eq!(y, total(&ps, 0.5));
    let r = gradcheck(
        |(ps, k): &(Vec<P>, f64)| total(ps, *k),
        &(ps.clone(), 0.5),
        &g,
    );
    assert!(r.passed(), "{r}");
    // ps[1].x: m x² (k² + 1) + (m0 + m1)(x0 + x1)².
    let both = 2.0 * (2.0 + 3.1) * (1.0 - 1.5);
    assert!((g.0[1].x - (3.1 * 2.0 * -1.5 * 1.25 + both)).abs() < 1e-12);
}

/// A complex number built by associated constructors named as Rust code names them
/// (`from_polar`, `identity`), whose locals are then the struct for its operators.
#[derive(Clone, Copy, Debug, Differentiable)]
pub struct C2 {
    pub re: f64,
    pub im: f64,
}

#[differentiate]
impl std::ops::Mul for C2 {
    type Output = C2;
    fn mul(self, b: C2) -> C2 {
        C2 {
            re: self.re * b.re - self.im * b.im,
            im: self.re * b.im + self.im * b.re,
        }
    }
}

#[differentiate]
impl C2 {
    fn from_polar(r: f64, th: f64) -> C2 {
        C2 {
            re: r * th.cos(),
            im: r * th.sin(),
        }
    }
    fn identity() -> C2 {
        C2 { re: 1.0, im: 0.0 }
    }
    fn polar(r: f64, th: f64) -> C2 {
        C2::from_polar(r, th)
    }
    fn splat(v: f64) -> C2 {
        C2 { re: v, im: v }
    }
}

#[differentiate]
fn rotated_re(r: f64, a: f64, b: f64) -> f64 {
    let p = C2::from_polar(r, a);
    let q = C2::from_polar(1.0, b);
    let one = C2::identity();
    let z = p * q * one;
    z.re
}

#[test]
fn locals_built_by_constructors_named_as_rust_names_them() {
    let (y, (gr, ga, gb)) = rotated_re_grad(2.0, 0.3, 0.4);
    // re(r e^{i(a+b)}) = r cos(a + b).
    assert!((y - 2.0 * 0.7f64.cos()).abs() < 1e-15);
    assert!((gr - 0.7f64.cos()).abs() < 1e-15);
    assert!((ga + 2.0 * 0.7f64.sin()).abs() < 1e-15);
    assert!((gb + 2.0 * 0.7f64.sin()).abs() < 1e-15);
}

/// `splat` and `polar`, other names Rust code gives constructors, and copies of such locals.
#[differentiate]
fn spread_re(r: f64, a: f64, v: f64) -> f64 {
    let p = C2::polar(r, a);
    let s = C2::splat(v);
    let z = p.clone() * s.clone() * p;
    z.re
}

#[test]
fn locals_built_by_splat_and_polar_and_their_copies() {
    let (r, a, v) = (1.5, 0.3, 0.7);
    let (y, (gr, ga, gv)) = spread_re_grad(r, a, v);
    // p² s = r² e^{2ia} v (1 + i): re = r² v (cos 2a − sin 2a).
    let c = (2.0 * a).cos() - (2.0 * a).sin();
    assert!((y - r * r * v * c).abs() < 1e-14);
    assert!((gr - 2.0 * r * v * c).abs() < 1e-14);
    assert!((ga - r * r * v * (-2.0 * (2.0 * a).sin() - 2.0 * (2.0 * a).cos())).abs() < 1e-14);
    assert!((gv - r * r * c).abs() < 1e-14);
}

/// A non-`Copy` state whose operators take it by value: copies of typed locals
/// (`s.clone() + k1.clone() * h`, a Runge–Kutta stage) are the struct for its operators.
#[derive(Clone, Debug, Differentiable)]
pub struct State {
    pub q: Vec<f64>,
}

#[differentiate]
impl std::ops::Add for State {
    type Output = State;
    fn add(self, o: State) -> State {
        State {
            q: self.q.iter().zip(&o.q).map(|(a, b)| a + b).collect(),
        }
    }
}

#[differentiate]
impl std::ops::Mul<f64> for State {
    type Output = State;
    fn mul(self, k: f64) -> State {
        State {
            q: self.q.iter().map(|a| a * k).collect(),
        }
    }
}

#[differentiate]
fn decay_rate(s: &State) -> State {
    State {
        q: s.q.iter().map(|x| -x * x).collect(),
    }
}

#[differentiate]
fn midpoint_step(s0: &State, h: f64) -> f64 {
    let s = s0.clone();
    let k1: State = decay_rate(&s);
    let mid: State = s.clone() + k1.clone() * (0.5 * h);
    let k2: State = decay_rate(&mid);
    let out: State = s + k2 * h;
    out.q.iter().sum()
}

#[test]
fn copies_of_typed_struct_locals_take_the_operators() {
    let s0 = State { q: vec![1.0] };
    let (h, q) = (0.1, 1.0);
    let mid = q - 0.5 * h * q * q;
    let (y, (g, gh)) = midpoint_step_grad(&s0, h);
    assert!((y - (q - h * mid * mid)).abs() < 1e-15);
    // ∂/∂q = 1 − 2h·mid·(1 − h q), ∂/∂h = −mid² + h·mid·q².
    assert!((g.q[0] - (1.0 - 2.0 * h * mid * (1.0 - h * q))).abs() < 1e-15);
    assert!((gh - (-mid * mid + h * mid * q * q)).abs() < 1e-15);
}

/// A local started by a constructor given literals (`S::new(0.0, 0.0)`, `S::default()`) holds
/// data only until a loop or a branch assigns it something differentiated, changes a field
/// of it, or calls a method on it given a differentiated value: its methods are then followed.
/// They were rejected ("`s.energy(..)` may change `s`"), as the methods of a random number
/// generator built from a seed are run as written. So is a copy of a local built by a literal
/// (`let mut r = q;`).
#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Osc {
    pub x: f64,
    pub v: f64,
}

impl Default for Osc {
    fn default() -> Self {
        Osc { x: 0.0, v: 0.0 }
    }
}

#[differentiate]
impl Osc {
    fn new(x: f64, v: f64) -> Self {
        Osc { x, v }
    }
    fn energy(&self) -> f64 {
        0.5 * self.v * self.v + 0.5 * self.x * self.x
    }
    fn sq(&self) -> Osc {
        Osc::new(self.x * self.x - self.v * self.v, 2.0 * self.x * self.v)
    }
    fn step(&mut self, k: f64) {
        let x = self.x;
        self.x += 0.1 * self.v;
        self.v -= 0.1 * k * x;
    }
    fn inner(&self, o: Osc) -> f64 {
        self.x * o.x + self.v * o.v
    }
}

#[differentiate]
fn mandelbrot_like(p: &[f64]) -> f64 {
    let mut z = Osc::new(0.0, 0.0);
    for _ in 0..3 {
        let z2 = z.sq();
        z = Osc::new(z2.x + p[0], z2.v + p[1]);
    }
    z.energy()
}

#[differentiate]
fn stepped_from_new(k: f64) -> f64 {
    let mut s = Osc::new(0.0, 1.0);
    for _ in 0..2 {
        s.step(k);
    }
    s.energy()
}

#[differentiate]
fn set_in_a_branch(p: &[f64]) -> f64 {
    let mut s = Osc::new(0.0, 0.0);
    if p[0] > 0.0 {
        s = Osc::new(p[0], 1.0);
    }
    s.energy()
}

#[differentiate]
fn fields_from_default(p: &[f64]) -> f64 {
    let mut s = Osc::default();
    for i in 0..p.len() {
        s.x += p[i];
        s.v = s.v * 0.5 + p[i];
    }
    s.energy()
}

#[differentiate]
fn copy_of_a_literal_local(p: &[f64]) -> f64 {
    let q = Osc { x: p[0], v: p[1] };
    let mut r = q;
    for _ in 0..2 {
        r = Osc {
            x: r.x * p[0],
            v: r.v,
        };
    }
    r.energy()
}

#[test]
fn locals_started_from_literal_constructors_then_assigned() {
    let p = [-0.3, 0.4];
    let plain = |p: &[f64]| {
        let (mut a, mut b) = (0.0f64, 0.0f64);
        for _ in 0..3 {
            let (a2, b2) = (a * a - b * b, 2.0 * a * b);
            a = a2 + p[0];
            b = b2 + p[1];
        }
        0.5 * (a * a + b * b)
    };
    let (v, g) = mandelbrot_like_grad(&p);
    assert_eq!(v, plain(&p));
    for i in 0..2 {
        let (mut hi, mut lo) = (p.to_vec(), p.to_vec());
        hi[i] += 1e-6;
        lo[i] -= 1e-6;
        let fd = (plain(&hi) - plain(&lo)) / 2e-6;
        assert!((fd - g[i]).abs() < 1e-8, "∂/∂p{i}: {} against {fd}", g[i]);
    }
    // x₂ = 0.2, v₂ = 1 − 0.01k: E = 0.02 + ½(1 − 0.01k)², ∂E/∂k = −0.01(1 − 0.01k).
    let (e, g) = stepped_from_new_grad(2.0);
    assert_eq!(e, stepped_from_new(2.0));
    assert!((g + 0.01 * 0.98).abs() < 1e-15, "{g}");
    assert_eq!(set_in_a_branch_grad(&[0.3, 0.6]).1, vec![0.3, 0.0]);
    assert_eq!(set_in_a_branch_grad(&[-0.3, 0.6]), (0.0, vec![0.0, 0.0]));
    // x = p₀ + p₁, v = p₀/2 + p₁: ∂E/∂p₀ = x + v/2, ∂E/∂p₁ = x + v.
    let (v, g) = fields_from_default_grad(&[0.3, 0.6]);
    assert!((v - 0.5 * (0.81 + 0.5625)).abs() < 1e-15);
    assert!(
        (g[0] - 1.275).abs() < 1e-15 && (g[1] - 1.65).abs() < 1e-15,
        "{g:?}"
    );
    // r = (p₀³, p₁): E = ½(p₀⁶ + p₁²).
    let (v, g) = copy_of_a_literal_local_grad(&[0.5, 0.25]);
    assert_eq!(v, 0.5 * (0.5f64.powi(6) + 0.0625));
    assert!((g[0] - 3.0 * 0.5f64.powi(5)).abs() < 1e-15 && (g[1] - 0.25).abs() < 1e-15);
}

/// The same locals assigned in a loop over the items of a slice (`for &v in p`,
/// `p.iter().enumerate()`), in the closure of `for_each`, by a local closure a loop calls, or
/// from a local the body of a loop over a range declares (`let t = p[i];`): they hold
/// differentiated values after the loop, and their methods, and those of a local built from
/// literals given them, are followed. They were rejected ("`s.energy(..)` may change `s`", "no
/// derivative rule for method `inner`"): the loop over the items did not see what its body
/// assigns (nor what the local closures it calls assign), and a name the body declares was
/// taken for a constant.
#[differentiate]
fn summed_over_items(p: &[f64]) -> f64 {
    let mut s = Osc::new(0.0, 0.0);
    for &v in p {
        s = Osc::new(s.x + v, s.v * 0.5 + v * v);
    }
    s.energy()
}

#[differentiate]
fn last_item_kept(p: &[f64]) -> f64 {
    let mut s = Osc::new(0.0, 0.0);
    for (i, &v) in p.iter().enumerate() {
        s = Osc::new(v, 2.0 * v + i as f64);
    }
    s.energy()
}

#[differentiate]
fn summed_in_for_each(p: &[f64]) -> f64 {
    let mut s = Osc::default();
    p.iter().for_each(|&v| s = Osc::new(s.x + v, v));
    s.energy()
}

#[differentiate]
fn from_a_local_of_the_body(p: &[f64]) -> f64 {
    let mut s = Osc::new(0.0, 0.0);
    for i in 0..p.len() {
        let t = p[i];
        s = Osc::new(t, t * t);
    }
    s.energy()
}

#[differentiate]
fn weighted_by_a_literal_local(p: &[f64]) -> f64 {
    let w = Osc::new(1.0, 2.0);
    let mut s = Osc::new(0.0, 0.0);
    for &v in p {
        s = Osc::new(s.x + v, s.v + v * v);
    }
    w.inner(s)
}

#[differentiate]
fn summed_by_a_local_closure(p: &[f64]) -> f64 {
    let mut s = Osc::new(0.0, 0.0);
    let mut add = |v: f64| s = Osc::new(s.x + v, v * v);
    for i in 0..p.len() {
        add(p[i]);
    }
    s.energy()
}

#[test]
fn locals_started_from_literal_constructors_then_assigned_over_items() {
    let p = [0.3, 0.6];
    // x = p₀ + p₁ = 0.9, v = (p₀²/2 + p₁²) = 0.405: ∂E/∂p₀ = x + v·p₀, ∂E/∂p₁ = x + 2v·p₁.
    let (e, g) = summed_over_items_grad(&p);
    assert_eq!(e, summed_over_items(&p));
    assert!((e - 0.5 * (0.405f64.powi(2) + 0.81)).abs() < 1e-15, "{e}");
    assert!((g[0] - (0.9 + 0.405 * 0.3)).abs() < 1e-15, "{g:?}");
    assert!((g[1] - (0.9 + 2.0 * 0.405 * 0.6)).abs() < 1e-15, "{g:?}");
    // The last item: x = p₂ = −0.2, v = 2p₂ + 2 = 1.6: ∂E/∂p₂ = x + 2v, the others 0.
    let q = [0.3, 0.6, -0.2];
    let (e, g) = last_item_kept_grad(&q);
    assert_eq!(e, last_item_kept(&q));
    assert!((e - 0.5 * (0.04 + 2.56)).abs() < 1e-15, "{e}");
    assert_eq!(g[..2], [0.0, 0.0]);
    assert!((g[2] - (-0.2 + 3.2)).abs() < 1e-15, "{g:?}");
    // x = p₀ + p₁ = 0.9, v = p₁ = 0.6: ∂E/∂p₀ = x, ∂E/∂p₁ = x + v.
    let (e, g) = summed_in_for_each_grad(&p);
    assert_eq!(e, summed_in_for_each(&p));
    assert!(
        (g[0] - 0.9).abs() < 1e-15 && (g[1] - 1.5).abs() < 1e-15,
        "{g:?}"
    );
    // x = p₁ = 0.6, v = p₁² = 0.36: ∂E/∂p₁ = x + 2v·p₁, ∂E/∂p₀ = 0.
    let (e, g) = from_a_local_of_the_body_grad(&p);
    assert_eq!(e, from_a_local_of_the_body(&p));
    assert_eq!(g[0], 0.0);
    assert!((g[1] - (0.6 + 0.36 * 1.2)).abs() < 1e-15, "{g:?}");
    // w·s = Σp + 2Σp²: ∂/∂pᵢ = 1 + 4pᵢ.
    let (y, g) = weighted_by_a_literal_local_grad(&p);
    assert_eq!(y, weighted_by_a_literal_local(&p));
    assert!((y - (0.9 + 2.0 * 0.45)).abs() < 1e-15, "{y}");
    assert!(
        (g[0] - 2.2).abs() < 1e-15 && (g[1] - 3.4).abs() < 1e-15,
        "{g:?}"
    );
    // Through a local closure: x = p₀ + p₁ = 0.9, v = p₁² = 0.36: ∂E/∂p₀ = x, ∂E/∂p₁ = x + 2v·p₁.
    let (e, g) = summed_by_a_local_closure_grad(&p);
    assert_eq!(e, summed_by_a_local_closure(&p));
    assert!((g[0] - 0.9).abs() < 1e-15, "{g:?}");
    assert!((g[1] - (0.9 + 0.72 * 0.6)).abs() < 1e-15, "{g:?}");
    for (name, f, df) in [
        (
            "summed over items",
            summed_over_items as fn(&[f64]) -> f64,
            summed_over_items_grad as fn(&[f64]) -> (f64, Vec<f64>),
        ),
        ("last item kept", last_item_kept, last_item_kept_grad),
        (
            "summed in for_each",
            summed_in_for_each,
            summed_in_for_each_grad,
        ),
        (
            "from a local of the body",
            from_a_local_of_the_body,
            from_a_local_of_the_body_grad,
        ),
        (
            "weighted by a literal local",
            weighted_by_a_literal_local,
            weighted_by_a_literal_local_grad,
        ),
        (
            "summed by a local closure",
            summed_by_a_local_closure,
            summed_by_a_local_closure_grad,
        ),
    ] {
        let x = vec![0.7, -0.4, 0.25];
        let r = gradcheck(|x: &Vec<f64>| f(x), &x, &df(&x).1);
        assert!(r.passed(), "{name}: {r}");
    }
}
