//! Audio and signal-processing code as users write it: filters, oscillators and envelopes
//! whose settings are fitted, with what they are given besides the signal.
//!
//! A function passed in to be called on data — a window `fn(usize, usize) -> f64`, a
//! `&dyn Fn(usize) -> f64`, a `Box<dyn Fn(f64) -> f64>` — was taken for a differentiated
//! parameter, being neither a float nor an integer: its call on an index was an error that
//! said it was called "on a differentiated value", and where it was not called, the gradient
//! held an entry for the function itself (`(f64, fn(usize) -> f64)`). A function type is now
//! data, as an integer is, and the gradient has entries for the floats only.
//!
//! A filter that keeps its state in the caller's `&mut f64` has no `_grad` of its own; calling
//! it is an error that says to leave the state out of `wrt(..)`, and the filter so written is
//! checked here.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::differentiate;

mod common;
use common::*;

fn hann(i: usize, n: usize) -> f64 {
    0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / (n - 1) as f64).cos()
}

/// The energy of a windowed frame scaled by a gain: `f = g²·Σ (w_i x_i)²`, `∂g = 2g·Σ (w_i
/// x_i)²`, `∂x_i = 2g²·w_i² x_i`.
#[differentiate]
fn windowed_energy(gain: f64, x: &[f64], window: fn(usize, usize) -> f64) -> f64 {
    let n = x.len();
    x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let y = gain * window(i, n) * v;
            y * y
        })
        .sum()
}

/// A tapered delay line read through a closure of the tap: `f = Σ_k c(k)·x_k·a`, `∂a = Σ_k
/// c(k) x_k`, `∂x_k = a·c(k)`.
#[differentiate]
fn tapped(a: f64, x: &[f64], taper: &dyn Fn(usize) -> f64) -> f64 {
    let mut s = 0.0;
    for k in 0..x.len() {
        s += taper(k) * x[k] * a;
    }
    s
}

/// A shaping curve kept in a `Box` and a gain that is not passed to it: `f = g·Σ x_i`.
#[differentiate(wrt(g))]
fn boxed_unused(g: f64, x: &[f64], _shape: Box<dyn Fn(f64) -> f64>) -> f64 {
    g * x.iter().sum::<f64>()
}

#[test]
fn functions_passed_in_are_data() {
    let x = data(9, 0.4);
    let (y, (dg, dx)) = windowed_energy_grad(0.8, &x, hann);
    let e: f64 = (0..9).map(|i| (hann(i, 9) * x[i]).powi(2)).sum();
    close("windowed energy", y, 0.64 * e, TOL);
    close("∂gain", dg, 1.6 * e, TOL);
    for i in 0..9 {
        close("∂x", dx[i], 2.0 * 0.64 * hann(i, 9).powi(2) * x[i], TOL);
    }
    let r = gradcheck(
        |p: &(f64, Vec<f64>)| windowed_energy(p.0, &p.1, hann),
        &(0.8, x.clone()),
        &(dg, dx),
    );
    assert!(r.passed(), "{r}");
    let (_, t) = windowed_energy_jvp(0.8, &x, hann, 1.0, &vec![0.0; 9]);
    close("tangent along the gain", t, 1.6 * e, TOL);

    let taper = |k: usize| 1.0 / (1.0 + k as f64);
    let (_, (da, dx)) = tapped_grad(1.5, &x, &taper);
    close("∂a", da, (0..9).map(|k| taper(k) * x[k]).sum(), TOL);
    for k in 0..9 {
        close("∂x", dx[k], 1.5 * taper(k), TOL);
    }

    let (_, dg) = boxed_unused_grad(2.0, &x, Box::new(|v: f64| v.tanh()));
    close("∂g", dg, x.iter().sum(), TOL);
}

/// A one-pole filter whose state the caller keeps, `state: &mut f64`, left out of `wrt(..)` as
/// the error of `_grad` without it says: `y_n = a·y_{n−1} + x_n` from `y_0 = s`, `f = Σ y_n²`.
/// With `y_n = aⁿs + Σ_{k≤n} a^{n−k} x_k`, `∂f/∂x_k = Σ_{n≥k} 2y_n a^{n−k}` and `∂f/∂a = Σ_n 2y_n
/// ∂y_n/∂a`, `∂y_n/∂a = y_{n−1} + a·∂y_{n−1}/∂a`.
#[differentiate(wrt(a, x))]
fn one_pole_with_state(a: f64, state: &mut f64, x: &[f64]) -> f64 {
    let mut e = 0.0;
    for &v in x {
        *state = a * *state + v;
        e += *state * *state;
    }
    e
}

#[test]
fn filter_state_left_out_of_wrt() {
    let x = data(7, 1.3);
    let (a, s0) = (0.6, 0.25);
    let mut s = s0;
    let (e, (da, dx)) = one_pole_with_state_grad(a, &mut s, &x);
    let mut s_plain = s0;
    let e_plain = one_pole_with_state(a, &mut s_plain, &x);
    assert_eq!(e.to_bits(), e_plain.to_bits());
    assert_eq!(
        s.to_bits(),
        s_plain.to_bits(),
        "the state is left where the filter leaves it"
    );
    // The analytic gradient, from the recurrences above.
    let (mut y, mut dy) = (s0, 0.0);
    let mut ys = Vec::new();
    let mut da_expected = 0.0;
    for &v in &x {
        dy = y + a * dy;
        y = a * y + v;
        da_expected += 2.0 * y * dy;
        ys.push(y);
    }
    close("∂a", da, da_expected, 1e-12);
    for k in 0..x.len() {
        let expected: f64 = (k..x.len())
            .map(|n| 2.0 * ys[n] * a.powi((n - k) as i32))
            .sum();
        close("∂x", dx[k], expected, 1e-12);
    }
    let r = gradcheck(
        |p: &(f64, Vec<f64>)| one_pole_with_state(p.0, &mut s0.clone(), &p.1),
        &(a, x.clone()),
        &(da, dx),
    );
    assert!(r.passed(), "{r}");
}
