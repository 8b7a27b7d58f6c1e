//! Compartment models, pharmacokinetics and orbits, written as the scientists who fit them
//! write them: SIR and SEIR models stepped by Euler, Heun and Runge–Kutta over fixed-size
//! arrays, structs and operators, fitted by least squares and likelihoods; Kepler's equation
//! solved by Newton's method inside the function; bodies advanced by leapfrog.
//!
//! A state advanced by assigning a new array, `y = std::array::from_fn(|k| y[k] + h * d[k]);`
//! (the step of an integrator over `[f64; 4]`), was the error that `from_fn` is followed only
//! where it is a variable's value declared with its type. It is now the old array copied,
//! written element by element and assigned back, as for a field (`s.vel = ..`) and an element
//! (`hist[k] = ..`) of one.
//!
//! Each gradient is checked against its analytic form where there is one (stated beside the
//! function) and against central finite differences through `autodiff::check`, and tangents
//! and Hessian-vector products against differences of values and gradients.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

/// A linear decay `y' = −k·y` stepped by Euler with the state replaced by `from_fn`:
/// `y_n = y₀ (1 − h k)ⁿ`, so `∂k y_n[0] = −n h y₀ (1 − h k)ⁿ⁻¹`.
#[differentiate(hessian)]
fn decay_by_from_fn(k: f64) -> f64 {
    let h = 0.1;
    let mut y = [1.0, 2.0];
    for _ in 0..20 {
        let d = [-k * y[0], -k * y[1]];
        y = std::array::from_fn(|j| y[j] + h * d[j]);
    }
    y[0]
}

/// SEIR stepped by Euler over `[f64; 4]`, the state replaced by `from_fn` each step.
#[differentiate(hessian)]
fn seir_by_from_fn(beta: f64, sigma: f64) -> f64 {
    let mut y = [0.98, 0.01, 0.01, 0.0];
    let h = 0.1;
    for _ in 0..150 {
        let inf = beta * y[0] * y[2];
        let d = [
            -inf,
            inf - sigma * y[1],
            sigma * y[1] - 0.2 * y[2],
            0.2 * y[2],
        ];
        y = std::array::from_fn(|k| y[k] + h * d[k]);
    }
    y[3] + y[2] * y[1]
}

#[derive(Clone, Differentiable)]
struct Traj {
    pos: [f64; 2],
    vel: [f64; 2],
}

/// A field and an element of a history replaced by `from_fn` (`core::array::` and a typed
/// closure parameter too).
#[differentiate]
fn fields_by_from_fn(k: f64) -> f64 {
    let mut s = Traj {
        pos: [1.0, 0.0],
        vel: [0.0, 1.0],
    };
    let mut hist = vec![[0.0; 2]; 3];
    for step in 0..30 {
        let acc = [-k * s.pos[0], -k * s.pos[1]];
        s.vel = std::array::from_fn(|j| s.vel[j] + 0.05 * acc[j]);
        s.pos = core::array::from_fn(|j: usize| s.pos[j] + 0.05 * s.vel[j]);
        let slot = step % 3;
        hist[slot] = std::array::from_fn(|j| s.pos[j] * hist[slot][j] + s.vel[j]);
    }
    s.pos[0] + hist[1][0] + hist[2][1]
}

#[test]
fn a_state_replaced_by_from_fn() {
    let k = 0.7;
    let (y, d) = decay_by_from_fn_grad(k);
    close("decay", y, 0.93f64.powi(20), TOL);
    close("∂k decay", d, -20.0 * 0.1 * 0.93f64.powi(19), TOL);
    let (_, t) = decay_by_from_fn_jvp(k, 1.0);
    close("tangent", t, d, TOL);
    // ∂²k = n(n − 1) h² y₀ (1 − h k)ⁿ⁻²
    let (_, _, hv) = decay_by_from_fn_hvp(k, 1.0);
    close(
        "∂²k decay",
        hv,
        20.0 * 19.0 * 0.01 * 0.93f64.powi(18),
        1e-10,
    );

    let x = (0.6, 0.3);
    let (v, g) = seir_by_from_fn_grad(x.0, x.1);
    assert_eq!(v, seir_by_from_fn(x.0, x.1));
    gradcheck(|q: &(f64, f64)| seir_by_from_fn(q.0, q.1), &x, &g).assert_ok();
    let (_, t) = seir_by_from_fn_jvp(x.0, x.1, 1.0, -1.0);
    jvpcheck(
        |q: &(f64, f64)| seir_by_from_fn(q.0, q.1),
        &x,
        &(1.0, -1.0),
        &t,
    )
    .assert_ok();
    let (_, _, hv) = seir_by_from_fn_hvp(x.0, x.1, 1.0, -1.0);
    hvpcheck(
        |q: &(f64, f64)| seir_by_from_fn_grad(q.0, q.1).1,
        &x,
        &(1.0, -1.0),
        &hv,
    )
    .assert_ok();

    let (v, d) = fields_by_from_fn_grad(1.3);
    assert_eq!(v, fields_by_from_fn(1.3));
    fd("fields", fields_by_from_fn, 1.3, d);
}
