//! `#[differentiate]` on an `impl` block: a trait's methods differentiated, their generated items
//! in an inherent `impl` of the type beside the trait's. Each gradient is compared with its
//! analytic value (beside each method) and with central finite differences.

use autodiff::{Differentiable, differentiate};

mod common;
use common::{TOL, close, fd};

trait Energy {
    fn energy(&self, x: f64) -> f64;
    fn name(&self) -> &'static str;
}

#[derive(Clone, Differentiable)]
struct Spring {
    k: f64,
    rest: f64,
}

/// Every method of the block with a float result is differentiated when none is marked; here
/// only `energy` is marked, so `name` is left as it is.
#[differentiate]
impl Energy for Spring {
    /// `E = k/2·(x − rest)²`: `∂E/∂x = k·(x − rest)`, `∂E/∂k = (x − rest)²/2`,
    /// `∂E/∂rest = −k·(x − rest)`.
    #[differentiate]
    fn energy(&self, x: f64) -> f64 {
        let d = x - self.rest;
        0.5 * self.k * d * d
    }

    fn name(&self) -> &'static str {
        "spring"
    }
}

/// A loss over a trait method, called on a parameter: it goes through the generated
/// `energy_vjp` of the inherent impl.
#[differentiate]
fn total(s: &Spring, x: f64) -> f64 {
    s.energy(x) + s.energy(2.0 * x)
}

#[test]
fn a_trait_method_is_differentiated_from_the_impl_block() {
    let s = Spring { k: 3.0, rest: 0.5 };
    let x = 1.7;
    let (v, (gs, gx)) = s.energy_grad(x);
    assert_eq!(v, s.energy(x));
    assert_eq!(s.name(), "spring");
    close("∂E/∂x", gx, 3.0 * (x - 0.5), TOL);
    close("∂E/∂k", gs.k, (x - 0.5) * (x - 0.5) / 2.0, TOL);
    close("∂E/∂rest", gs.rest, -3.0 * (x - 0.5), TOL);
    fd("∂E/∂x", |x| s.energy(x), x, gx);
    let (t, (_, dt)) = total_grad(&s, x);
    assert_eq!(t, total(&s, x));
    close(
        "∂total/∂x",
        dt,
        3.0 * (x - 0.5) + 2.0 * 3.0 * (2.0 * x - 0.5),
        TOL,
    );
    fd("∂total/∂x", |x| total(&s, x), x, dt);
}

trait Model {
    fn predict(&self, x: f64) -> f64;
    fn loss(&self, xs: &[f64], ys: &[f64]) -> f64;
}

#[derive(Clone, Differentiable)]
struct Line {
    a: f64,
    b: f64,
}

/// Each method with its own options.
#[differentiate]
impl Model for Line {
    #[differentiate]
    fn predict(&self, x: f64) -> f64 {
        self.a * x + self.b
    }

    /// `L = Σ (a·xᵢ + b − yᵢ)²`: `∂L/∂a = Σ 2rᵢxᵢ`, `∂L/∂b = Σ 2rᵢ`.
    #[differentiate(wrt(self))]
    fn loss(&self, xs: &[f64], ys: &[f64]) -> f64 {
        let mut l = 0.0;
        for i in 0..xs.len() {
            let r = self.predict(xs[i]) - ys[i];
            l += r * r;
        }
        l
    }
}

#[test]
fn marked_methods_take_their_own_options() {
    let m = Line { a: 0.7, b: -0.2 };
    let xs = [0.0, 1.0, 2.0, 3.5];
    let ys = [0.1, 0.4, 1.6, 2.0];
    let (l, g) = m.loss_grad(&xs, &ys);
    assert_eq!(l, m.loss(&xs, &ys));
    let r: Vec<f64> = xs.iter().zip(&ys).map(|(x, y)| 0.7 * x - 0.2 - y).collect();
    let da: f64 = r.iter().zip(&xs).map(|(r, x)| 2.0 * r * x).sum();
    let db: f64 = r.iter().map(|r| 2.0 * r).sum();
    close("∂L/∂a", g.a, da, TOL);
    close("∂L/∂b", g.b, db, TOL);
    fd("∂L/∂a", |a| Line { a, b: -0.2 }.loss(&xs, &ys), 0.7, g.a);
    let (p, (gp, gx)) = m.predict_grad(2.0);
    assert_eq!(p, m.predict(2.0));
    close("∂p/∂a", gp.a, 2.0, TOL);
    close("∂p/∂b", gp.b, 1.0, TOL);
    close("∂p/∂x", gx, 0.7, TOL);
}

trait Potential {
    fn potential(&self, x: f64) -> f64;
}

struct Well {
    depth: f64,
}

/// No method marked: the block's options apply to every method (`Well` is not differentiable,
/// so only `x` is).
#[differentiate(wrt(x))]
impl Potential for Well {
    /// `V = −depth·e^{−x²}`: `∂V/∂x = 2x·depth·e^{−x²}`.
    fn potential(&self, x: f64) -> f64 {
        -self.depth * (-x * x).exp()
    }
}

#[test]
fn every_method_of_an_unmarked_block_is_differentiated() {
    let w = Well { depth: 1.5 };
    let x = 0.8;
    let (v, dx) = w.potential_grad(x);
    assert_eq!(v, w.potential(x));
    close("∂V/∂x", dx, 2.0 * x * 1.5 * (-x * x).exp(), TOL);
    fd("∂V/∂x", |x| w.potential(x), x, dx);
}

trait Activation {
    fn apply(z: f64) -> f64;
    fn weight(k: usize) -> f64;
}

struct Softplus;

#[differentiate]
impl Activation for Softplus {
    #[differentiate]
    fn apply(z: f64) -> f64 {
        (1.0 + z.exp()).ln()
    }

    fn weight(k: usize) -> f64 {
        1.0 / (k as f64 + 1.0)
    }
}

/// An associated function of a trait's impl called through the implementing type is followed
/// (`Softplus::apply_vjp`); through a type parameter it is an error (`tests/ui`), except on
/// data, where it runs as written (`A::weight(i)`).
#[differentiate(wrt(x))]
fn weighted_layer<A: Activation>(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, &v) in x.iter().enumerate() {
        s += A::weight(i) * Softplus::apply(v);
    }
    s
}

#[test]
fn associated_functions_of_a_trait_impl() {
    let x = [0.5, -1.0, 2.0];
    let (v, g) = weighted_layer_grad::<Softplus>(&x);
    assert_eq!(v, weighted_layer::<Softplus>(&x));
    for i in 0..3 {
        // softplus' = σ
        let want = 1.0 / (i as f64 + 1.0) / (1.0 + (-x[i]).exp());
        close("∂/∂xᵢ", g[i], want, TOL);
    }
}
