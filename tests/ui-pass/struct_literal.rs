//! Struct literals of a derived parameter type built from differentiated values compile without
//! warnings under strict lints: the functions the derive writes for them are hidden.
#![deny(warnings, missing_docs)]

use autodiff::{Differentiable, differentiate};

/// A point of a trajectory.
#[derive(Clone, Differentiable)]
pub struct State {
    /// Position.
    pub x: f64,
    /// Velocity.
    pub v: f64,
}

/// A private type with private fields, built in its own module.
#[derive(Clone, Differentiable)]
struct Hidden {
    a: f64,
}

/// One Euler step of x'' = −kx.
#[differentiate]
pub fn step(s: &State, k: f64, dt: f64) -> State {
    State {
        x: s.x + s.v * dt,
        v: s.v - k * s.x * dt,
    }
}

#[differentiate]
fn hidden(a: f64) -> f64 {
    let h = Hidden { a: a * a };
    h.a
}

fn main() {
    let (_, pullback) = step_vjp(&State { x: 1.0, v: 0.0 }, 2.0, 0.1);
    let (ds, dk, _) = pullback(State { x: 0.0, v: 1.0 });
    assert_eq!((ds.x, ds.v, dk), (-0.2, 1.0, -0.1));
    assert_eq!(hidden_grad(3.0).1, 6.0);
}
