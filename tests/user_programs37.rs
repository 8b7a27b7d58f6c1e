//! Programs a newcomer writes in a first week with the library: parameter structs with a
//! function kept in a field, methods called in training loops. Each is checked against its
//! analytic derivative (stated beside the function) and central finite differences.
//!
//! A struct of parameters holding its activation as a closure behind a pointer (`warp:
//! Rc<dyn Fn(f64) -> f64>`) did not derive (`dyn Fn(f64) -> f64: Default` at the derive), and
//! a function held in a field called on an input, `(self.act)(x[i])`, was an error that said it
//! was called on a differentiated value: the field's read counted the struct, which is
//! differentiated, though a function is data. The field is read as data now, and the call
//! depends on differentiated values through its arguments only.
//!
//! A unit struct's value bound to a local before its trait method is called, `let loss = Mse;
//! loss.eval(r)`, was an error that said the method had no derivative rule, where `Mse.eval(r)`
//! was followed: the local now has the struct's type, as one a struct literal built has.

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};
use std::rc::Rc;

mod common;
use common::*;

#[derive(Clone, Differentiable)]
struct Features {
    w: Vec<f64>,
    act: fn(f64) -> f64,
    warp: Rc<dyn Fn(f64) -> f64>,
}

/// `s(w) = Σ_i w_i² act(x_i) + warp(x_i) w_i`, so `∂s/∂w_i = 2 w_i act(x_i) + warp(x_i)` and
/// `∂²s/∂w_i² = 2 act(x_i)` (no cross terms).
#[differentiate(wrt(self), hessian)]
impl Features {
    fn score(&self, x: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..x.len() {
            s += self.w[i] * self.w[i] * (self.act)(x[i]) + (self.warp)(x[i]) * self.w[i];
        }
        s
    }
}

/// The same, as a free function over a borrowed struct: `∂/∂w_i = 2 w_i tanh(x_i) + x_i²`.
#[differentiate(wrt(f))]
fn total(f: &Features, x: &[f64]) -> f64 {
    x.iter()
        .zip(&f.w)
        .map(|(&xi, &wi)| wi * wi * (f.act)(xi) + (f.warp)(xi) * wi)
        .sum()
}

fn features() -> Features {
    Features {
        w: vec![0.5, -1.0, 0.25],
        act: f64::tanh,
        warp: Rc::new(|v: f64| v * v),
    }
}

#[test]
fn a_function_held_in_a_field_is_called_on_data() {
    let f = features();
    let x = [0.3, 0.8, -0.4];
    let (v, g) = f.score_grad(&x);
    assert_eq!(v, f.score(&x));
    for i in 0..3 {
        let expected = 2.0 * f.w[i] * x[i].tanh() + x[i] * x[i];
        close("∂s/∂w", g.w[i], expected, TOL);
    }
    let r = gradcheck(|p: &Features| p.score(&x), &f, &g);
    assert!(r.passed(), "{r}");
    // The gradient copies the functions.
    assert_eq!((g.act)(0.5), 0.5f64.tanh());
    assert_eq!((g.warp)(3.0), 9.0);

    let (_, gt) = total_grad(&f, &x);
    for i in 0..3 {
        close("∂total/∂w", gt.w[i], g.w[i], TOL);
    }

    let mut dir = f.clone();
    dir.w = vec![1.0, -0.5, 2.0];
    let (_, t) = f.score_jvp(&x, &dir);
    let r = jvpcheck(|p: &Features| p.score(&x), &f, &dir, &t);
    assert!(r.passed(), "{r}");
    let (_, _, hv) = f.score_hvp(&x, &dir);
    for i in 0..3 {
        close("H·v", hv.w[i], 2.0 * x[i].tanh() * dir.w[i], TOL);
    }
    let r = hvpcheck(|p: &Features| p.score_grad(&x).1, &f, &dir, &hv);
    assert!(r.passed(), "{r}");
}

trait Loss {
    fn eval(&self, r: f64) -> f64;
}

struct Mse;

#[differentiate(wrt(r))]
impl Loss for Mse {
    fn eval(&self, r: f64) -> f64 {
        r * r
    }
}

/// `L(w) = Σ_i loss(w x_i − y_i)` with `loss(r) = r²`: `∂L/∂w = Σ_i 2 (w x_i − y_i) x_i`.
#[differentiate(wrt(w))]
fn fit(w: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let loss = Mse;
    let mut total = 0.0;
    for i in 0..xs.len() {
        total += loss.eval(w * xs[i] - ys[i]);
    }
    total
}

#[test]
fn a_unit_struct_bound_to_a_local_calls_its_trait_method() {
    let xs = data(6, 0.3);
    let ys = data(6, 0.9);
    let w = 0.7;
    let (v, g) = fit_grad(w, &xs, &ys);
    assert_eq!(v, fit(w, &xs, &ys));
    let expected: f64 = xs.iter().zip(&ys).map(|(x, y)| 2.0 * (w * x - y) * x).sum();
    close("∂L/∂w", g, expected, TOL);
    fd("∂L/∂w", |w| fit(w, &xs, &ys), w, g);
    let (_, t) = fit_jvp(w, &xs, &ys, 1.0);
    close("jvp", t, expected, TOL);
}
