//! Graph-structured models: a parameter struct holding the graph as data fields next to its
//! weights (`edges: Vec<(usize, usize)>`, `idx: Vec<usize>`, `n_nodes: usize`), read by the
//! loops of message passing, degree normalisation and gathers.
//!
//! A loop over a field of integers of a differentiated struct, `for &i in &l.idx` (also
//! `.iter()`, `.iter().enumerate()`, zipped with a float field, and `for &(u, v) in &g.edges`
//! of a `Vec<(usize, usize)>`), was rustc's "`usize` is not differentiable" inside the
//! generated code, while `for t in 0..l.idx.len() { let i = l.idx[t]; .. }` worked: the
//! integers read out of the field were data, but the field itself was given an adjoint, which
//! its type does not have. An integer read out of a value (an element used as an index, a
//! position of an edge, a length) now carries nothing back to it.
//!
//! Each gradient is checked against its analytic form (stated beside the function) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![deny(warnings)]
#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. Loops over fields of integers.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Lookup {
    w: Vec<f64>,
    idx: Vec<usize>,
}

/// `L = Σ_t sin(s·w[idx_t])`: `∂L/∂w_i = Σ_{t: idx_t = i} s·cos(s·w_i)`, `∂L/∂s = Σ_t
/// w[idx_t]·cos(s·w[idx_t])`.
#[differentiate]
fn gather_for(l: &Lookup, s: f64) -> f64 {
    let mut acc = 0.0;
    for &i in &l.idx {
        acc += (l.w[i] * s).sin();
    }
    acc
}

/// As [`gather_for`] through `l.idx.iter()`.
#[differentiate]
fn gather_iter(l: &Lookup, s: f64) -> f64 {
    let mut acc = 0.0;
    for &i in l.idx.iter() {
        acc += (l.w[i] * s).sin();
    }
    acc
}

/// `L = Σ_t (t + 1)·sin(s·w[idx_t])` through `enumerate`.
#[differentiate]
fn gather_enumerate(l: &Lookup, s: f64) -> f64 {
    let mut acc = 0.0;
    for (t, &i) in l.idx.iter().enumerate() {
        acc += (t + 1) as f64 * (l.w[i] * s).sin();
    }
    acc
}

/// `L = Σ_t w_t·s·w[idx_t]`, the index field zipped with the float field: `∂L/∂w_i = s·w[idx_i]
/// + Σ_{t: idx_t = i} s·w_t` (the first term for `i < idx.len()`), `∂L/∂s = Σ_t w_t·w[idx_t]`.
#[differentiate]
fn gather_zip(l: &Lookup, s: f64) -> f64 {
    let mut acc = 0.0;
    for (&i, &wt) in l.idx.iter().zip(l.w.iter()) {
        acc += wt * s * l.w[i];
    }
    acc
}

fn lookup() -> Lookup {
    Lookup {
        w: vec![0.3, -0.7, 1.1, 0.2],
        idx: vec![2, 0, 2, 3],
    }
}

#[test]
fn loops_over_a_field_of_indices() {
    let l = lookup();
    let s = 1.3;
    type Grad = fn(&Lookup, f64) -> (f64, (Lookup, f64));
    for (what, weighted, f, grad) in [
        (
            "for",
            false,
            gather_for as fn(&Lookup, f64) -> f64,
            gather_for_grad as Grad,
        ),
        ("iter", false, gather_iter, gather_iter_grad),
        ("enumerate", true, gather_enumerate, gather_enumerate_grad),
    ] {
        let (y, (gl, gs)) = grad(&l, s);
        close(&format!("{what}: value"), y, f(&l, s), TOL);
        let mut want_w = vec![0.0; 4];
        let mut want_s = 0.0;
        for (t, &i) in l.idx.iter().enumerate() {
            let c = if weighted { (t + 1) as f64 } else { 1.0 };
            want_w[i] += c * s * (s * l.w[i]).cos();
            want_s += c * l.w[i] * (s * l.w[i]).cos();
        }
        close_all(&format!("{what}: ∂w"), &gl.w, &want_w);
        close(&format!("{what}: ∂s"), gs, want_s, TOL);
        assert_eq!(
            gl.idx, l.idx,
            "{what}: the gradient holds the data field's copy"
        );
        let r = gradcheck(|p: &(Lookup, f64)| f(&p.0, p.1), &(l.clone(), s), &(gl, gs));
        assert!(r.passed(), "{what}: {r}");
        let dir = Lookup {
            w: vec![0.5, -1.0, 0.25, 2.0],
            idx: l.idx.clone(),
        };
        let (_, t) = match what {
            "for" => gather_for_jvp(&l, s, &dir, 0.5),
            "iter" => gather_iter_jvp(&l, s, &dir, 0.5),
            _ => gather_enumerate_jvp(&l, s, &dir, 0.5),
        };
        let r = jvpcheck(
            |p: &(Lookup, f64)| f(&p.0, p.1),
            &(l.clone(), s),
            &(dir, 0.5),
            &t,
        );
        assert!(r.passed(), "{what}: jvp {r}");
    }

    let (y, (gl, gs)) = gather_zip_grad(&l, s);
    close("zip: value", y, gather_zip(&l, s), TOL);
    let mut want_w = vec![0.0; 4];
    let mut want_s = 0.0;
    for (t, &i) in l.idx.iter().enumerate() {
        want_w[t] += s * l.w[i];
        want_w[i] += s * l.w[t];
        want_s += l.w[t] * l.w[i];
    }
    close_all("zip: ∂w", &gl.w, &want_w);
    close("zip: ∂s", gs, want_s, TOL);
}
