//! A struct's own methods named like a container's shape queries and reads (`len` for a
//! vector's length, `shape` and `scale` of a distribution, `nrows`, `capacity`, `dim`, `first`,
//! `last`): on a receiver the macro sees to be the struct (a parameter, `self`, an element, a
//! loop's item, a literal, an operator's result) they are the struct's, differentiated through
//! its `_vjp`. They were taken for a `Vec`'s `len` and given a zero derivative. Where the macro
//! cannot see the struct (a field, `s.a.len()`), the result of a method of such a name is
//! checked to be a length, a flag or a shape: a float result is a compile error
//! (`tests/ui/shape_query_float_result.rs`), never a zero derivative.
//!
//! Each gradient is checked against central finite differences through `autodiff::check`.

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
impl std::ops::Sub for V2 {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Self {
            x: self.x - o.x,
            y: self.y - o.y,
        }
    }
}

#[differentiate]
impl V2 {
    /// The vector's length, as hand-written 2-D vectors often name it.
    pub fn len(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }
    pub fn twice_len(&self) -> f64 {
        2.0 * self.len()
    }
    pub fn capacity(&self) -> f64 {
        self.x * self.y
    }
    pub fn nrows(&self) -> f64 {
        self.x + 2.0 * self.y
    }
    pub fn dim(&self) -> f64 {
        self.x * self.x * self.y
    }
}

#[differentiate]
fn len_on_a_parameter(v: V2) -> f64 {
    v.len() + v.capacity() + v.nrows() * v.dim()
}

#[differentiate]
fn len_through_self(v: &V2) -> f64 {
    v.twice_len()
}

#[differentiate]
fn len_on_elements_and_items(ps: &[V2]) -> f64 {
    let mut s = ps[1].len();
    for p in ps {
        s += 0.5 * p.len();
    }
    s + ps.iter().map(|p| p.len() * p.capacity()).sum::<f64>()
}

#[differentiate]
fn len_on_literals_and_differences(a: V2, b: V2, k: f64) -> f64 {
    let v = V2 { x: k, y: 2.0 * k };
    let d = a - b;
    v.len() + d.len() + (b - a).capacity()
}

#[test]
fn shape_query_names_of_a_struct_of_floats() {
    let a = V2 { x: 3.0, y: 4.0 };
    let b = V2 { x: 1.0, y: -1.5 };

    let (y, g) = len_on_a_parameter_grad(a);
    assert_eq!(y, len_on_a_parameter(a));
    // len: (0.6, 0.8); capacity: (4, 3); nrows·dim: (1, 2)·36 + 11·(24, 9).
    assert!(
        (g.x - (0.6 + 4.0 + 36.0 + 11.0 * 24.0)).abs() < 1e-12,
        "{g:?}"
    );
    assert!(
        (g.y - (0.8 + 3.0 + 72.0 + 11.0 * 9.0)).abs() < 1e-12,
        "{g:?}"
    );

    let (_, g) = len_through_self_grad(&a);
    assert!(
        (g.x - 1.2).abs() < 1e-12 && (g.y - 1.6).abs() < 1e-12,
        "{g:?}"
    );

    let ps = vec![b, a];
    let (y, g) = len_on_elements_and_items_grad(&ps);
    assert_eq!(y, len_on_elements_and_items(&ps));
    let r = gradcheck(|p: &Vec<V2>| len_on_elements_and_items(p), &ps, &g);
    assert!(r.passed(), "elements: {r}");

    let (y, g) = len_on_literals_and_differences_grad(a, b, 0.7);
    assert_eq!(y, len_on_literals_and_differences(a, b, 0.7));
    let r = gradcheck(
        |p: &(V2, V2, f64)| len_on_literals_and_differences(p.0, p.1, p.2),
        &(a, b, 0.7),
        &g,
    );
    assert!(r.passed(), "literals: {r}");
}

/// A Gamma distribution with the usual `shape()` and `scale()` accessors, fitted by maximum
/// likelihood.
#[derive(Clone, Debug, Differentiable)]
pub struct Gamma {
    pub log_k: f64,
    pub log_theta: f64,
}

#[differentiate]
impl Gamma {
    pub fn shape(&self) -> f64 {
        self.log_k.exp()
    }
    pub fn scale(&self) -> f64 {
        self.log_theta.exp()
    }
    pub fn mean(&self) -> f64 {
        self.shape() * self.scale()
    }
    pub fn logpdf_kernel(&self, x: f64) -> f64 {
        (self.shape() - 1.0) * x.ln() - x / self.scale() - self.shape() * self.scale().ln()
    }
}

#[differentiate]
fn gamma_nll(g: &Gamma, xs: &[f64]) -> f64 {
    -xs.iter().map(|&x| g.logpdf_kernel(x)).sum::<f64>() + (g.mean() - 2.0).powi(2)
}

/// A track whose own `first` and `last` are its end points.
#[derive(Clone, Debug, Differentiable)]
pub struct Track {
    pub xs: Vec<f64>,
}

#[differentiate]
impl Track {
    pub fn first(&self) -> f64 {
        self.xs[0]
    }
    pub fn last(&self) -> f64 {
        self.xs[self.xs.len() - 1]
    }
}

#[differentiate]
fn span(t: &Track) -> f64 {
    t.last() * t.last() - t.first()
}

#[test]
fn accessors_named_like_shape_queries_and_reads() {
    let g = Gamma {
        log_k: 0.7,
        log_theta: -0.2,
    };
    let xs = vec![0.5, 1.3, 2.2, 0.9];
    let (y, (gg, _)) = gamma_nll_grad(&g, &xs);
    assert_eq!(y, gamma_nll(&g, &xs));
    let r = gradcheck(|p: &Gamma| gamma_nll(p, &xs), &g, &gg);
    assert!(r.passed(), "gamma: {r}");
    assert!(
        gg.log_k.abs() > 1e-3,
        "the shape's gradient is not zero: {gg:?}"
    );

    let t = Track {
        xs: vec![1.0, 2.0, 4.0],
    };
    let (y, g) = span_grad(&t);
    assert_eq!(y, 15.0);
    assert_eq!(g.xs, vec![-1.0, 0.0, 8.0]);
}

#[derive(Clone, Debug, Differentiable)]
pub struct Circle {
    pub r: f64,
}

#[differentiate]
impl Circle {
    pub fn perim(&self) -> f64 {
        2.0 * std::f64::consts::PI * self.r
    }
}

/// A fold from a literal over what the struct's methods return, its type given by the
/// declaration or the function's result (rustc infers the fold's type from there, before the
/// closure; the generated code has the literal typed).
#[differentiate]
fn widest(circles: &[Circle]) -> f64 {
    let m: f64 = circles.iter().map(|c| c.perim()).fold(0.0, |a, b| a.max(b));
    m * 2.0
}

#[differentiate]
fn widest_tail(circles: &[Circle]) -> f64 {
    circles.iter().map(|c| c.perim()).fold(0.0, |a, b| a.max(b))
}

#[test]
fn folds_from_literals_over_method_results() {
    let cs = vec![Circle { r: 0.5 }, Circle { r: 2.0 }, Circle { r: 1.2 }];
    let tau = 2.0 * std::f64::consts::PI;
    let (y, g) = widest_grad(&cs);
    assert_eq!(y, widest(&cs));
    assert_eq!((g[0].r, g[1].r, g[2].r), (0.0, 2.0 * tau, 0.0));
    let (y, g) = widest_tail_grad(&cs);
    assert_eq!(y, 2.0 * tau);
    assert_eq!((g[0].r, g[1].r, g[2].r), (0.0, tau, 0.0));
}

/// A method of the struct returning a count, cast to a float (`m.n_layers() as f64`): run as
/// written, its result a constant of the derivative; one of a `#[differentiate]` trait impl
/// block too, whose integer methods stay as written.
#[derive(Clone, Debug, Differentiable)]
pub struct Model {
    pub w: Vec<f64>,
    pub b: f64,
}

impl Model {
    fn n_layers(&self) -> usize {
        self.w.len()
    }
}

pub trait Count {
    fn n(&self) -> usize;
    fn e(&self, x: f64) -> f64;
}

#[differentiate]
impl Count for Model {
    fn n(&self) -> usize {
        self.w.len()
    }
    fn e(&self, x: f64) -> f64 {
        self.b * x
    }
}

#[differentiate]
fn mean_w(m: &Model) -> f64 {
    let s: f64 = m.w.iter().sum();
    s / m.n_layers() as f64 + m.b
}

#[differentiate]
fn per_item(m: &Model, x: f64) -> f64 {
    m.e(x) / (m.n() as f64)
}

#[test]
fn counts_cast_to_floats_run_as_written() {
    let m = Model {
        w: vec![0.5, 1.5],
        b: 0.2,
    };
    let (y, g) = mean_w_grad(&m);
    assert_eq!((y, &g.w[..], g.b), (1.2, &[0.5, 0.5][..], 1.0));
    let (y, (gm, gx)) = per_item_grad(&m, 2.0);
    assert_eq!((y, gm.b, gx), (0.2, 1.0, 0.1));
}

/// A struct's own `dot` on a field of `self` or of a parameter, given a value of the struct
/// (`self.r0.dot(&v)` of `v: V2`): the struct's method, as an array's `dot` takes no struct.
#[differentiate]
impl V2 {
    pub fn dot(&self, o: &V2) -> f64 {
        self.x * o.x + self.y * o.y
    }
}

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct M2 {
    pub r0: V2,
    pub r1: V2,
}

#[differentiate]
impl M2 {
    pub fn apply(&self, v: V2) -> V2 {
        V2 {
            x: self.r0.dot(&v),
            y: self.r1.dot(&v),
        }
    }
}

#[differentiate]
fn first_row_dot(m: M2, v: V2) -> f64 {
    m.r0.dot(&v)
}

#[test]
fn a_structs_dot_on_a_field() {
    let m = M2 {
        r0: V2 { x: 1.0, y: 2.0 },
        r1: V2 { x: 3.0, y: 4.0 },
    };
    let v = V2 { x: 0.5, y: -1.0 };
    let (y, (gm, gv)) = first_row_dot_grad(m, v);
    assert_eq!(y, -1.5);
    assert_eq!((gm.r0.x, gm.r0.y, gm.r1.x, gm.r1.y), (0.5, -1.0, 0.0, 0.0));
    assert_eq!((gv.x, gv.y), (1.0, 2.0));
    let (r, pb) = m.apply_vjp(v);
    assert_eq!((r.x, r.y), (-1.5, -2.5));
    // ∂(r.x + r.y)/∂v = r0 + r1, ∂/∂r1 = v.
    let (gm, gv) = pb(V2 { x: 1.0, y: 1.0 });
    assert_eq!((gm.r1.x, gm.r1.y, gv.x, gv.y), (0.5, -1.0, 4.0, 6.0));
}

/// Alternative definitions of a method under `#[cfg]`s: the items made from each carry its
/// attributes (they were duplicate definitions, E0592). In a body, `cfg!(..)` chooses.
#[derive(Clone, Debug, Differentiable)]
pub struct Spring {
    pub k: f64,
}

#[differentiate]
impl Spring {
    #[cfg(debug_assertions)]
    pub fn energy(&self, x: f64) -> f64 {
        self.k * x * x
    }
    #[cfg(not(debug_assertions))]
    pub fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }
}

#[differentiate]
fn weighted_by_configuration(x: f64) -> f64 {
    let w = if cfg!(debug_assertions) { 1.0 } else { 2.0 };
    w * x * x
}

#[test]
fn methods_under_cfg_and_cfg_macros() {
    let s = Spring { k: 1.5 };
    let (v, (gs, gx)) = s.energy_grad(2.0);
    assert_eq!(v, s.energy(2.0));
    let c = if cfg!(debug_assertions) { 1.0 } else { 0.5 };
    assert_eq!((gs.k, gx), (c * 4.0, c * 6.0));
    let w = if cfg!(debug_assertions) { 1.0 } else { 2.0 };
    assert_eq!(weighted_by_configuration_grad(3.0), (9.0 * w, 6.0 * w));
}

/// A complex number's own `exp` and `abs` on locals built by `new` or a literal: the
/// struct's methods, as on a parameter of its type (`z.exp()` was taken for the float rule,
/// and the error fell on the next method).
#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Cx {
    pub re: f64,
    pub im: f64,
}

#[differentiate]
impl Cx {
    pub fn new(re: f64, im: f64) -> Self {
        Cx { re, im }
    }
    pub fn exp(&self) -> Cx {
        let m = self.re.exp();
        Cx {
            re: m * self.im.cos(),
            im: m * self.im.sin(),
        }
    }
    pub fn abs(&self) -> f64 {
        self.re.hypot(self.im)
    }
    pub fn norm_sqr(&self) -> f64 {
        self.re * self.re + self.im * self.im
    }
}

#[differentiate]
fn exp_norm(p: &[f64]) -> f64 {
    let z = Cx::new(p[0], p[1]);
    let w = z.exp();
    w.norm_sqr() + Cx { re: p[1], im: 1.0 }.abs()
}

#[test]
fn float_named_methods_of_struct_locals() {
    // |e^z|² = e^{2 re}, |(p₁, 1)| = √(p₁² + 1).
    let (v, g) = exp_norm_grad(&[0.3, 0.7]);
    let r = 0.7f64.hypot(1.0);
    assert!((v - 0.6f64.exp() - r).abs() < 1e-14);
    assert!((g[0] - 2.0 * 0.6f64.exp()).abs() < 1e-14 && (g[1] - 0.7 / r).abs() < 1e-14);
}

// ---------------------------------------------------------------------------------------------
// Float-named methods (`abs`, `exp`) of a complex number on what its `+`, `-` or unary `-`
// returned, inline or through a local: `Add`, `Sub` and `Neg` of a type return the type, so
// the method is the struct's (it was taken for the float rule: rustc's errors in the generated
// code). A dot product written as `*` returning a float keeps the float's `sqrt`.
// ---------------------------------------------------------------------------------------------

#[differentiate]
impl std::ops::Add for Cx {
    type Output = Cx;
    fn add(self, o: Cx) -> Cx {
        Cx {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
}

#[differentiate]
impl std::ops::Sub for Cx {
    type Output = Cx;
    fn sub(self, o: Cx) -> Cx {
        Cx {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
}

#[differentiate]
impl std::ops::Neg for Cx {
    type Output = Cx;
    fn neg(self) -> Cx {
        Cx {
            re: -self.re,
            im: -self.im,
        }
    }
}

/// A plane vector whose `*` is the dot product.
#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Dv {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
impl std::ops::Mul for Dv {
    type Output = f64;
    fn mul(self, o: Dv) -> f64 {
        self.x * o.x + self.y * o.y
    }
}

/// |(a + ib) + (b + i)| + |(a + ib) − (b + i)| + |exp(−(a + ib))| + |exp(a + ib − (½ + ia))|
/// + √((a, b)·(b, 2)).
#[differentiate]
fn complex_sums(a: f64, b: f64) -> f64 {
    let p = Cx::new(a, b);
    let q = Cx::new(b, 1.0);
    let d = p - q;
    let dot = (Dv { x: a, y: b } * Dv { x: b, y: 2.0 }).sqrt();
    (p + q).abs() + d.abs() + (-p).exp().re.abs() + (p - Cx::new(0.5, a)).exp().im.abs() + dot
}

fn complex_sums_plain(a: f64, b: f64) -> f64 {
    let m = |re: f64, im: f64| (re * re + im * im).sqrt();
    m(a + b, b + 1.0)
        + m(a - b, b - 1.0)
        + ((-a).exp() * (-b).cos()).abs()
        + ((a - 0.5).exp() * (b - a).sin()).abs()
        + (a * b + 2.0 * b).sqrt()
}

/// The same on parameters of the struct's type.
#[differentiate]
fn complex_params(p: Cx, q: Cx) -> f64 {
    (p + q).abs() * (-(p - q)).exp().re
}

#[test]
fn float_named_methods_on_sums_and_differences_of_structs() {
    for (a, b) in [(0.5, 0.7), (-0.3, 1.2)] {
        let (y, g) = complex_sums_grad(a, b);
        assert!((y - complex_sums_plain(a, b)).abs() < 1e-12, "{y}");
        let r = gradcheck(|p: &(f64, f64)| complex_sums_plain(p.0, p.1), &(a, b), &g);
        assert!(r.passed(), "{r}");
    }
    let (p, q) = (Cx::new(0.4, -0.2), Cx::new(0.1, 0.9));
    let (y, (gp, gq)) = complex_params_grad(p, q);
    let plain = |pr: f64, pi: f64, qr: f64, qi: f64| {
        let m = ((pr + qr).powi(2) + (pi + qi).powi(2)).sqrt();
        m * ((qr - pr).exp() * (qi - pi).cos())
    };
    assert!((y - plain(p.re, p.im, q.re, q.im)).abs() < 1e-12, "{y}");
    let g = vec![gp.re, gp.im, gq.re, gq.im];
    let x = vec![p.re, p.im, q.re, q.im];
    let r = gradcheck(|x: &Vec<f64>| plain(x[0], x[1], x[2], x[3]), &x, &g);
    assert!(r.passed(), "{r}");
}
