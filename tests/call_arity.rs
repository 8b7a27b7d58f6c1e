//! Calls of 1, 2, 7, 12 and 16 arguments through the interface that `#[differentiate]`'s
//! generated code uses for a call `g(..)`: one marker per argument by autoref specialization
//! (`Probe`), then [`spread`] of the pullback's gradient over the arguments (reverse mode) and
//! [`call_jvp`] of a forward rule with one tangent per differentiable argument (forward mode).
//!
//! Every `gN` below is a hand-written function of mixed arguments (`f64`, `&[f64]`,
//! `&Array1<f64>`, `usize`, `&[usize]`) with hand-written rules:
//!
//! ```text
//! g = K · Σᵢ cᵢ · Σⱼ sin xᵢⱼ,   K = 1 + Σ integer arguments + Σ entries of integer slices
//! ```
//!
//! where `i` runs over the float arguments and `cᵢ = 1 + i/4` depends on the argument's position,
//! so a gradient or tangent that lands on the wrong argument gives a wrong value. Hence
//!
//! ```text
//! ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ,   dg[t] = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·tᵢⱼ,   ∂²g/∂xᵢⱼ² = −K·cᵢ·sin xᵢⱼ
//! ```
//!
//! (the Hessian is diagonal). Each result is compared with these formulas and with central
//! finite differences of `g`.

// The conventions under test: many parameters, `&Vec<f64>` tangents of `&[f64]` parameters,
// rules of long tuple types, and the explicit borrow that makes the probe's autoref
// specialization work.
#![allow(
    clippy::too_many_arguments,
    clippy::ptr_arg,
    clippy::type_complexity,
    clippy::needless_borrow
)]

use autodiff::__private::{Probe, call_jvp, no_tan, spread, tan};
use autodiff::Differentiable;
use autodiff::check::assert_gradient;
use ndarray::{Array1, array};

mod common;
use common::*;

/// The float arguments of the test functions, with the pieces of their terms and derivatives.
trait Float: autodiff::Primal {
    /// `Σⱼ sin xⱼ`.
    fn sum_sin(&self) -> f64;
    /// `s·cos xⱼ` for every `j`: the gradient of `s·Σⱼ sin xⱼ`.
    fn cos_times(&self, s: f64) -> Self::Tangent;
    /// `Σⱼ cos xⱼ·tⱼ`: the derivative of `Σⱼ sin xⱼ` along `t`. Panics unless `t` has the shape
    /// of `x`, as a forward rule does.
    fn cos_dot(&self, t: &Self::Tangent) -> f64;
    /// `ds·cos xⱼ − s·sin xⱼ·tⱼ` for every `j`: the tangent of `s·cos xⱼ` along `(ds, t)`.
    fn cos_times_tangent(&self, s: f64, ds: f64, t: &Self::Tangent) -> Self::Tangent;
    /// `x + s·t`.
    fn moved(&self, s: f64, t: &Self::Tangent) -> Self::Tangent;
}

impl Float for f64 {
    fn sum_sin(&self) -> f64 {
        self.sin()
    }
    fn cos_times(&self, s: f64) -> f64 {
        s * self.cos()
    }
    fn cos_dot(&self, t: &f64) -> f64 {
        self.cos() * t
    }
    fn cos_times_tangent(&self, s: f64, ds: f64, t: &f64) -> f64 {
        ds * self.cos() - s * self.sin() * t
    }
    fn moved(&self, s: f64, t: &f64) -> f64 {
        self + s * t
    }
}

impl Float for [f64] {
    fn sum_sin(&self) -> f64 {
        self.iter().map(|x| x.sin()).sum()
    }
    fn cos_times(&self, s: f64) -> Vec<f64> {
        self.iter().map(|x| s * x.cos()).collect()
    }
    fn cos_dot(&self, t: &Vec<f64>) -> f64 {
        assert_eq!(self.len(), t.len(), "a tangent of another shape");
        self.iter().zip(t).map(|(x, t)| x.cos() * t).sum()
    }
    fn cos_times_tangent(&self, s: f64, ds: f64, t: &Vec<f64>) -> Vec<f64> {
        assert_eq!(self.len(), t.len(), "a tangent of another shape");
        let f = |(x, t): (&f64, &f64)| ds * x.cos() - s * x.sin() * t;
        self.iter().zip(t).map(f).collect()
    }
    fn moved(&self, s: f64, t: &Vec<f64>) -> Vec<f64> {
        self.iter().zip(t).map(|(x, t)| x + s * t).collect()
    }
}

impl Float for Array1<f64> {
    fn sum_sin(&self) -> f64 {
        self.iter().map(|x| x.sin()).sum()
    }
    fn cos_times(&self, s: f64) -> Array1<f64> {
        self.mapv(|x| s * x.cos())
    }
    fn cos_dot(&self, t: &Array1<f64>) -> f64 {
        assert_eq!(self.dim(), t.dim(), "a tangent of another shape");
        self.iter().zip(t).map(|(x, t)| x.cos() * t).sum()
    }
    fn cos_times_tangent(&self, s: f64, ds: f64, t: &Array1<f64>) -> Array1<f64> {
        assert_eq!(self.dim(), t.dim(), "a tangent of another shape");
        ndarray::Zip::from(self)
            .and(t)
            .map_collect(|x, t| ds * x.cos() - s * x.sin() * t)
    }
    fn moved(&self, s: f64, t: &Array1<f64>) -> Array1<f64> {
        self + &(t * s)
    }
}

/// `K = 1 + Σ counts + Σ entries of slices`.
fn k_of(counts: &[usize], slices: &[&[usize]]) -> f64 {
    let entries: usize = slices.iter().map(|s| s.iter().sum::<usize>()).sum();
    (1 + counts.iter().sum::<usize>() + entries) as f64
}

/// Every scalar of `actual` within [`TOL`] of the one of `expected`, and the same shapes.
#[track_caller]
fn close_all<T: Differentiable<Scalar = f64>>(what: &str, actual: &T, expected: &T) {
    let (mut a, mut e) = (Vec::new(), Vec::new());
    actual.visit_leaves(&mut |l| a.extend_from_slice(l));
    expected.visit_leaves(&mut |l| e.extend_from_slice(l));
    assert_eq!(
        a.len(),
        e.len(),
        "{what}: {} scalars, expected {}",
        a.len(),
        e.len()
    );
    for (j, (a, e)) in a.into_iter().zip(e).enumerate() {
        close(&format!("{what}[{j}]"), a, e, TOL);
    }
}

/// g1 = K·Σᵢ cᵢ·Σⱼ sin xᵢⱼ over x0;
/// K = 1.
fn g1(x0: f64) -> f64 {
    k_of(&[], &[]) * (1.0 * x0.sum_sin())
}

/// The reverse rule of [`g1`]: ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ.
fn g1_vjp(x0: f64) -> (f64, impl FnOnce(f64) -> f64) {
    let k = k_of(&[], &[]);
    (g1(x0), move |ybar: f64| {
        let s = ybar * k;
        x0.cos_times(1.0 * s)
    })
}

/// The forward rule of [`g1`]: dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·dxᵢⱼ.
fn g1_jvp(x0: f64, dx0: f64) -> (f64, f64) {
    let k = k_of(&[], &[]);
    (k * (1.0 * x0.sum_sin()), k * (1.0 * x0.cos_dot(&dx0)))
}

#[test]
fn one_argument() {
    let x0 = -1.1;
    let k = k_of(&[], &[]);

    // Reverse, as the generated backward pass does it.
    let (y, pb) = g1_vjp(x0);
    let sel = {
        #[allow(unused_imports)] // as in generated code, where some calls need only one
        use autodiff::__private::{ProbeNo as _, ProbeYes as _};
        ((&Probe(&x0)).marker(),)
    };
    let (d0,) = spread(sel, pb(1.0));
    assert_eq!(y, g1(x0));
    // ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ, checked against central finite differences.
    close_all("∂x0", &d0, &x0.cos_times(k * 1.0));
    assert_gradient(|x: &f64| g1(*x), &x0, &d0);

    // Forward: tangents for some differentiable arguments, the others inactive in the caller
    // (zero tangents shaped like them).
    let t0 = -0.6;
    let mut slots = (tan(t0),);
    let (y, dy) = call_jvp(g1_jvp, sel, (x0,), &mut slots);
    assert_eq!(y, g1(x0));
    // dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·tᵢⱼ over the arguments with a tangent, and the central difference
    // of s ↦ g(x + s·t) at 0.
    close("dg", dy, k * (1.0 * x0.cos_dot(&t0)), TOL);
    assert_gradient(|s: &f64| g1(x0.moved(*s, &t0)), &0.0, &dy);
}

/// g2 = K·Σᵢ cᵢ·Σⱼ sin xᵢⱼ over x0;
/// K = 1 + x1.
fn g2(x0: &[f64], x1: usize) -> f64 {
    k_of(&[x1], &[]) * (1.0 * x0.sum_sin())
}

/// The reverse rule of [`g2`]: ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ.
fn g2_vjp(x0: &[f64], x1: usize) -> (f64, impl FnOnce(f64) -> Vec<f64>) {
    let k = k_of(&[x1], &[]);
    (g2(x0, x1), move |ybar: f64| {
        let s = ybar * k;
        x0.cos_times(1.0 * s)
    })
}

/// The forward rule of [`g2`]: dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·dxᵢⱼ.
fn g2_jvp(x0: &[f64], x1: usize, dx0: &Vec<f64>) -> (f64, f64) {
    let k = k_of(&[x1], &[]);
    (k * (1.0 * x0.sum_sin()), k * (1.0 * x0.cos_dot(dx0)))
}

#[test]
fn two_arguments() {
    let v0 = vec![-1.1, -0.6];
    let (x0, x1) = (&v0, 1usize);
    let k = k_of(&[x1], &[]);

    // Reverse, as the generated backward pass does it.
    let (y, pb) = g2_vjp(x0, x1);
    let sel = {
        #[allow(unused_imports)] // as in generated code, where some calls need only one
        use autodiff::__private::{ProbeNo as _, ProbeYes as _};
        ((&Probe(&x0)).marker(), (&Probe(&x1)).marker())
    };
    let (d0, d1) = spread(sel, pb(1.0));
    assert_eq!(y, g2(x0, x1));
    // Each non-differentiable argument gets `()`; each other its own gradient,
    // ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ, checked against central finite differences.
    let () = d1;
    close_all("∂x0", &d0, &x0.cos_times(k * 1.0));
    assert_gradient(|x: &Vec<f64>| g2(x, x1), &x0.to_vec(), &d0);

    // Forward: tangents for some differentiable arguments, the others inactive in the caller
    // (zero tangents shaped like them); a stray tangent on the integer x1 is dropped.
    let t0 = vec![-1.0, -0.4];
    let mut slots = (tan(t0.clone()), tan(0.5));
    let (y, dy) = call_jvp(g2_jvp, sel, (x0, x1), &mut slots);
    assert_eq!(y, g2(x0, x1));
    // dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·tᵢⱼ over the arguments with a tangent, and the central difference
    // of s ↦ g(x + s·t) at 0.
    close("dg", dy, k * (1.0 * x0.cos_dot(&t0)), TOL);
    assert_gradient(|s: &f64| g2(&x0.moved(*s, &t0), x1), &0.0, &dy);
}

/// g7 = K·Σᵢ cᵢ·Σⱼ sin xᵢⱼ over x0, x1, x3, x5, x6;
/// K = 1 + x2 + Σ x4.
fn g7(x0: f64, x1: &[f64], x2: usize, x3: &Array1<f64>, x4: &[usize], x5: f64, x6: &[f64]) -> f64 {
    k_of(&[x2], &[x4])
        * (1.0 * x0.sum_sin()
            + 1.25 * x1.sum_sin()
            + 1.75 * x3.sum_sin()
            + 2.25 * x5.sum_sin()
            + 2.5 * x6.sum_sin())
}

/// The reverse rule of [`g7`]: ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ.
fn g7_vjp(
    x0: f64,
    x1: &[f64],
    x2: usize,
    x3: &Array1<f64>,
    x4: &[usize],
    x5: f64,
    x6: &[f64],
) -> (
    f64,
    impl FnOnce(f64) -> (f64, Vec<f64>, Array1<f64>, f64, Vec<f64>),
) {
    let k = k_of(&[x2], &[x4]);
    (g7(x0, x1, x2, x3, x4, x5, x6), move |ybar: f64| {
        let s = ybar * k;
        (
            x0.cos_times(1.0 * s),
            x1.cos_times(1.25 * s),
            x3.cos_times(1.75 * s),
            x5.cos_times(2.25 * s),
            x6.cos_times(2.5 * s),
        )
    })
}

/// The forward rule of [`g7`]: dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·dxᵢⱼ.
fn g7_jvp(
    x0: f64,
    x1: &[f64],
    x2: usize,
    x3: &Array1<f64>,
    x4: &[usize],
    x5: f64,
    x6: &[f64],
    dx0: f64,
    dx1: &Vec<f64>,
    dx3: &Array1<f64>,
    dx5: f64,
    dx6: &Vec<f64>,
) -> (f64, f64) {
    let k = k_of(&[x2], &[x4]);
    (
        k * (1.0 * x0.sum_sin()
            + 1.25 * x1.sum_sin()
            + 1.75 * x3.sum_sin()
            + 2.25 * x5.sum_sin()
            + 2.5 * x6.sum_sin()),
        k * (1.0 * x0.cos_dot(&dx0)
            + 1.25 * x1.cos_dot(dx1)
            + 1.75 * x3.cos_dot(dx3)
            + 2.25 * x5.cos_dot(&dx5)
            + 2.5 * x6.cos_dot(dx6)),
    )
}

/// A forward rule of [`g7`]'s shape that returns the tangents it is given.
fn g7_echo(
    _x0: f64,
    _x1: &[f64],
    _x2: usize,
    _x3: &Array1<f64>,
    _x4: &[usize],
    _x5: f64,
    _x6: &[f64],
    dx0: f64,
    dx1: &Vec<f64>,
    dx3: &Array1<f64>,
    dx5: f64,
    dx6: &Vec<f64>,
) -> (f64, Vec<f64>, Array1<f64>, f64, Vec<f64>) {
    (dx0, dx1.clone(), dx3.clone(), dx5, dx6.clone())
}

/// The forward-over-reverse rule of [`g7`]: value, forward derivative, and a pullback of
/// `(ȳ, dȳ)` to the gradient `ȳ·K·cᵢ·cos xᵢ` and its tangent
/// `dȳ·K·cᵢ·cos xᵢ − ȳ·K·cᵢ·sin xᵢ·dxᵢ`.
fn g7_vjp_jvp(
    x0: f64,
    x1: &[f64],
    x2: usize,
    x3: &Array1<f64>,
    x4: &[usize],
    x5: f64,
    x6: &[f64],
    dx0: f64,
    dx1: &Vec<f64>,
    dx3: &Array1<f64>,
    dx5: f64,
    dx6: &Vec<f64>,
) -> (
    f64,
    f64,
    impl FnOnce(
        f64,
        f64,
    ) -> (
        (f64, Vec<f64>, Array1<f64>, f64, Vec<f64>),
        (f64, Vec<f64>, Array1<f64>, f64, Vec<f64>),
    ),
) {
    let k = k_of(&[x2], &[x4]);
    let (y, dy) = g7_jvp(x0, x1, x2, x3, x4, x5, x6, dx0, dx1, dx3, dx5, dx6);
    (y, dy, move |ybar: f64, dybar: f64| {
        let (s, ds) = (ybar * k, dybar * k);
        (
            (
                x0.cos_times(1.0 * s),
                x1.cos_times(1.25 * s),
                x3.cos_times(1.75 * s),
                x5.cos_times(2.25 * s),
                x6.cos_times(2.5 * s),
            ),
            (
                x0.cos_times_tangent(1.0 * s, 1.0 * ds, &dx0),
                x1.cos_times_tangent(1.25 * s, 1.25 * ds, dx1),
                x3.cos_times_tangent(1.75 * s, 1.75 * ds, dx3),
                x5.cos_times_tangent(2.25 * s, 2.25 * ds, &dx5),
                x6.cos_times_tangent(2.5 * s, 2.5 * ds, dx6),
            ),
        )
    })
}

#[test]
fn seven_arguments() {
    let v1 = vec![-0.4, 0.1, 0.6];
    let v3 = array![1.0, -0.8, -0.3];
    let v4 = [0usize, 1];
    let v6 = [0.8, -1.0];
    let (x0, x1, x2, x3, x4, x5, x6) = (-1.1, &v1, 2usize, &v3, &v4[..], 0.1, &v6[..]);
    let k = k_of(&[x2], &[x4]);

    // Reverse, as the generated backward pass does it.
    let (y, pb) = g7_vjp(x0, x1, x2, x3, x4, x5, x6);
    let sel = {
        #[allow(unused_imports)] // as in generated code, where some calls need only one
        use autodiff::__private::{ProbeNo as _, ProbeYes as _};
        (
            (&Probe(&x0)).marker(),
            (&Probe(&x1)).marker(),
            (&Probe(&x2)).marker(),
            (&Probe(&x3)).marker(),
            (&Probe(&x4)).marker(),
            (&Probe(&x5)).marker(),
            (&Probe(&x6)).marker(),
        )
    };
    let (d0, d1, d2, d3, d4, d5, d6) = spread(sel, pb(1.0));
    assert_eq!(y, g7(x0, x1, x2, x3, x4, x5, x6));
    // Each non-differentiable argument gets `()`; each other its own gradient,
    // ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ, checked against central finite differences.
    let ((), ()) = (d2, d4);
    close_all("∂x0", &d0, &x0.cos_times(k * 1.0));
    assert_gradient(|x: &f64| g7(*x, x1, x2, x3, x4, x5, x6), &x0, &d0);
    close_all("∂x1", &d1, &x1.cos_times(k * 1.25));
    assert_gradient(
        |x: &Vec<f64>| g7(x0, x, x2, x3, x4, x5, x6),
        &x1.to_vec(),
        &d1,
    );
    close_all("∂x3", &d3, &x3.cos_times(k * 1.75));
    assert_gradient(|x: &Array1<f64>| g7(x0, x1, x2, x, x4, x5, x6), x3, &d3);
    close_all("∂x5", &d5, &x5.cos_times(k * 2.25));
    assert_gradient(|x: &f64| g7(x0, x1, x2, x3, x4, *x, x6), &x5, &d5);
    close_all("∂x6", &d6, &x6.cos_times(k * 2.5));
    assert_gradient(
        |x: &Vec<f64>| g7(x0, x1, x2, x3, x4, x5, x),
        &x6.to_vec(),
        &d6,
    );

    // Forward: tangents for some differentiable arguments, the others inactive in the caller
    // (zero tangents shaped like them); a stray tangent on the integer x2 is dropped.
    let t0 = -0.6;
    let t3 = array![-0.2, 0.4, 1.0];
    let t6 = vec![0.6, -1.0];
    let mut slots = (
        tan(t0),
        no_tan(),
        tan(0.5),
        tan(t3.clone()),
        no_tan(),
        no_tan(),
        tan(t6.clone()),
    );
    let (y, dy) = call_jvp(g7_jvp, sel, (x0, x1, x2, x3, x4, x5, x6), &mut slots);
    assert_eq!(y, g7(x0, x1, x2, x3, x4, x5, x6));
    // dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·tᵢⱼ over the arguments with a tangent, and the central difference
    // of s ↦ g(x + s·t) at 0.
    close(
        "dg",
        dy,
        k * (1.0 * x0.cos_dot(&t0) + 1.75 * x3.cos_dot(&t3) + 2.5 * x6.cos_dot(&t6)),
        TOL,
    );
    assert_gradient(
        |s: &f64| {
            g7(
                x0.moved(*s, &t0),
                x1,
                x2,
                &x3.moved(*s, &t3),
                x4,
                x5,
                &x6.moved(*s, &t6),
            )
        },
        &0.0,
        &dy,
    );

    // The tangents themselves: as given, or zeros shaped like their arguments.
    let mut slots = (
        tan(t0),
        no_tan(),
        tan(0.5),
        tan(t3.clone()),
        no_tan(),
        no_tan(),
        tan(t6.clone()),
    );
    let tangents = call_jvp(g7_echo, sel, (x0, x1, x2, x3, x4, x5, x6), &mut slots);
    assert_eq!(
        tangents,
        (t0, vec![0.0; x1.len()], t3.clone(), 0.0, t6.clone())
    );
}

/// g12 = K·Σᵢ cᵢ·Σⱼ sin xᵢⱼ over x1, x2, x4, x5, x7, x8, x9, x10;
/// K = 1 + x0 + x6 + Σ x3 + Σ x11.
fn g12(
    x0: usize,
    x1: f64,
    x2: &[f64],
    x3: &[usize],
    x4: &Array1<f64>,
    x5: f64,
    x6: usize,
    x7: f64,
    x8: &[f64],
    x9: &Array1<f64>,
    x10: f64,
    x11: &[usize],
) -> f64 {
    k_of(&[x0, x6], &[x3, x11])
        * (1.25 * x1.sum_sin()
            + 1.5 * x2.sum_sin()
            + 2.0 * x4.sum_sin()
            + 2.25 * x5.sum_sin()
            + 2.75 * x7.sum_sin()
            + 3.0 * x8.sum_sin()
            + 3.25 * x9.sum_sin()
            + 3.5 * x10.sum_sin())
}

/// The reverse rule of [`g12`]: ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ.
fn g12_vjp(
    x0: usize,
    x1: f64,
    x2: &[f64],
    x3: &[usize],
    x4: &Array1<f64>,
    x5: f64,
    x6: usize,
    x7: f64,
    x8: &[f64],
    x9: &Array1<f64>,
    x10: f64,
    x11: &[usize],
) -> (
    f64,
    impl FnOnce(
        f64,
    ) -> (
        f64,
        Vec<f64>,
        Array1<f64>,
        f64,
        f64,
        Vec<f64>,
        Array1<f64>,
        f64,
    ),
) {
    let k = k_of(&[x0, x6], &[x3, x11]);
    (
        g12(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11),
        move |ybar: f64| {
            let s = ybar * k;
            (
                x1.cos_times(1.25 * s),
                x2.cos_times(1.5 * s),
                x4.cos_times(2.0 * s),
                x5.cos_times(2.25 * s),
                x7.cos_times(2.75 * s),
                x8.cos_times(3.0 * s),
                x9.cos_times(3.25 * s),
                x10.cos_times(3.5 * s),
            )
        },
    )
}

/// The forward rule of [`g12`]: dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·dxᵢⱼ.
fn g12_jvp(
    x0: usize,
    x1: f64,
    x2: &[f64],
    x3: &[usize],
    x4: &Array1<f64>,
    x5: f64,
    x6: usize,
    x7: f64,
    x8: &[f64],
    x9: &Array1<f64>,
    x10: f64,
    x11: &[usize],
    dx1: f64,
    dx2: &Vec<f64>,
    dx4: &Array1<f64>,
    dx5: f64,
    dx7: f64,
    dx8: &Vec<f64>,
    dx9: &Array1<f64>,
    dx10: f64,
) -> (f64, f64) {
    let k = k_of(&[x0, x6], &[x3, x11]);
    (
        k * (1.25 * x1.sum_sin()
            + 1.5 * x2.sum_sin()
            + 2.0 * x4.sum_sin()
            + 2.25 * x5.sum_sin()
            + 2.75 * x7.sum_sin()
            + 3.0 * x8.sum_sin()
            + 3.25 * x9.sum_sin()
            + 3.5 * x10.sum_sin()),
        k * (1.25 * x1.cos_dot(&dx1)
            + 1.5 * x2.cos_dot(dx2)
            + 2.0 * x4.cos_dot(dx4)
            + 2.25 * x5.cos_dot(&dx5)
            + 2.75 * x7.cos_dot(&dx7)
            + 3.0 * x8.cos_dot(dx8)
            + 3.25 * x9.cos_dot(dx9)
            + 3.5 * x10.cos_dot(&dx10)),
    )
}

#[test]
fn twelve_arguments() {
    let v2 = [0.3, 0.8];
    let v3 = vec![1usize, 1];
    let v4 = array![-0.6, -0.1, 0.4];
    let v8 = vec![-0.1, 0.4];
    let v9 = array![0.6, 1.1, -0.7];
    let v11 = vec![1usize, 1];
    let (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11) = (
        0usize,
        -0.4,
        &v2[..],
        &v3,
        &v4,
        0.1,
        0usize,
        -0.8,
        &v8,
        &v9,
        -1.0,
        &v11,
    );
    let k = k_of(&[x0, x6], &[x3, x11]);

    // Reverse, as the generated backward pass does it.
    let (y, pb) = g12_vjp(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11);
    let sel = {
        #[allow(unused_imports)] // as in generated code, where some calls need only one
        use autodiff::__private::{ProbeNo as _, ProbeYes as _};
        (
            (&Probe(&x0)).marker(),
            (&Probe(&x1)).marker(),
            (&Probe(&x2)).marker(),
            (&Probe(&x3)).marker(),
            (&Probe(&x4)).marker(),
            (&Probe(&x5)).marker(),
            (&Probe(&x6)).marker(),
            (&Probe(&x7)).marker(),
            (&Probe(&x8)).marker(),
            (&Probe(&x9)).marker(),
            (&Probe(&x10)).marker(),
            (&Probe(&x11)).marker(),
        )
    };
    let (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11) = spread(sel, pb(1.0));
    assert_eq!(y, g12(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11));
    // Each non-differentiable argument gets `()`; each other its own gradient,
    // ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ, checked against central finite differences.
    let ((), (), (), ()) = (d0, d3, d6, d11);
    close_all("∂x1", &d1, &x1.cos_times(k * 1.25));
    assert_gradient(
        |x: &f64| g12(x0, *x, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11),
        &x1,
        &d1,
    );
    close_all("∂x2", &d2, &x2.cos_times(k * 1.5));
    assert_gradient(
        |x: &Vec<f64>| g12(x0, x1, x, x3, x4, x5, x6, x7, x8, x9, x10, x11),
        &x2.to_vec(),
        &d2,
    );
    close_all("∂x4", &d4, &x4.cos_times(k * 2.0));
    assert_gradient(
        |x: &Array1<f64>| g12(x0, x1, x2, x3, x, x5, x6, x7, x8, x9, x10, x11),
        x4,
        &d4,
    );
    close_all("∂x5", &d5, &x5.cos_times(k * 2.25));
    assert_gradient(
        |x: &f64| g12(x0, x1, x2, x3, x4, *x, x6, x7, x8, x9, x10, x11),
        &x5,
        &d5,
    );
    close_all("∂x7", &d7, &x7.cos_times(k * 2.75));
    assert_gradient(
        |x: &f64| g12(x0, x1, x2, x3, x4, x5, x6, *x, x8, x9, x10, x11),
        &x7,
        &d7,
    );
    close_all("∂x8", &d8, &x8.cos_times(k * 3.0));
    assert_gradient(
        |x: &Vec<f64>| g12(x0, x1, x2, x3, x4, x5, x6, x7, x, x9, x10, x11),
        &x8.to_vec(),
        &d8,
    );
    close_all("∂x9", &d9, &x9.cos_times(k * 3.25));
    assert_gradient(
        |x: &Array1<f64>| g12(x0, x1, x2, x3, x4, x5, x6, x7, x8, x, x10, x11),
        x9,
        &d9,
    );
    close_all("∂x10", &d10, &x10.cos_times(k * 3.5));
    assert_gradient(
        |x: &f64| g12(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, *x, x11),
        &x10,
        &d10,
    );

    // Forward: tangents for some differentiable arguments, the others inactive in the caller
    // (zero tangents shaped like them); a stray tangent on the integer x0 is dropped.
    let t1 = 0.15;
    let t4 = array![0.8, -0.8, -0.2];
    let t7 = -0.6;
    let t9 = array![-0.8, -0.2, 0.4];
    let mut slots = (
        tan(0.5),
        tan(t1),
        no_tan(),
        no_tan(),
        tan(t4.clone()),
        no_tan(),
        no_tan(),
        tan(t7),
        no_tan(),
        tan(t9.clone()),
        no_tan(),
        no_tan(),
    );
    let (y, dy) = call_jvp(
        g12_jvp,
        sel,
        (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11),
        &mut slots,
    );
    assert_eq!(y, g12(x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11));
    // dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·tᵢⱼ over the arguments with a tangent, and the central difference
    // of s ↦ g(x + s·t) at 0.
    close(
        "dg",
        dy,
        k * (1.25 * x1.cos_dot(&t1)
            + 2.0 * x4.cos_dot(&t4)
            + 2.75 * x7.cos_dot(&t7)
            + 3.25 * x9.cos_dot(&t9)),
        TOL,
    );
    assert_gradient(
        |s: &f64| {
            g12(
                x0,
                x1.moved(*s, &t1),
                x2,
                x3,
                &x4.moved(*s, &t4),
                x5,
                x6,
                x7.moved(*s, &t7),
                x8,
                &x9.moved(*s, &t9),
                x10,
                x11,
            )
        },
        &0.0,
        &dy,
    );
}

/// g16 = K·Σᵢ cᵢ·Σⱼ sin xᵢⱼ over x0, x1, x2, x4, x6, x7, x8, x10, x11, x13, x14, x15;
/// K = 1 + x3 + x9 + Σ x5 + Σ x12.
fn g16(
    x0: f64,
    x1: &[f64],
    x2: &Array1<f64>,
    x3: usize,
    x4: f64,
    x5: &[usize],
    x6: &[f64],
    x7: f64,
    x8: &Array1<f64>,
    x9: usize,
    x10: &[f64],
    x11: f64,
    x12: &[usize],
    x13: &Array1<f64>,
    x14: f64,
    x15: &[f64],
) -> f64 {
    k_of(&[x3, x9], &[x5, x12])
        * (1.0 * x0.sum_sin()
            + 1.25 * x1.sum_sin()
            + 1.5 * x2.sum_sin()
            + 2.0 * x4.sum_sin()
            + 2.5 * x6.sum_sin()
            + 2.75 * x7.sum_sin()
            + 3.0 * x8.sum_sin()
            + 3.5 * x10.sum_sin()
            + 3.75 * x11.sum_sin()
            + 4.25 * x13.sum_sin()
            + 4.5 * x14.sum_sin()
            + 4.75 * x15.sum_sin())
}

/// The reverse rule of [`g16`]: ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ.
fn g16_vjp(
    x0: f64,
    x1: &[f64],
    x2: &Array1<f64>,
    x3: usize,
    x4: f64,
    x5: &[usize],
    x6: &[f64],
    x7: f64,
    x8: &Array1<f64>,
    x9: usize,
    x10: &[f64],
    x11: f64,
    x12: &[usize],
    x13: &Array1<f64>,
    x14: f64,
    x15: &[f64],
) -> (
    f64,
    impl FnOnce(
        f64,
    ) -> (
        f64,
        Vec<f64>,
        Array1<f64>,
        f64,
        Vec<f64>,
        f64,
        Array1<f64>,
        Vec<f64>,
        f64,
        Array1<f64>,
        f64,
        Vec<f64>,
    ),
) {
    let k = k_of(&[x3, x9], &[x5, x12]);
    (
        g16(
            x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
        ),
        move |ybar: f64| {
            let s = ybar * k;
            (
                x0.cos_times(1.0 * s),
                x1.cos_times(1.25 * s),
                x2.cos_times(1.5 * s),
                x4.cos_times(2.0 * s),
                x6.cos_times(2.5 * s),
                x7.cos_times(2.75 * s),
                x8.cos_times(3.0 * s),
                x10.cos_times(3.5 * s),
                x11.cos_times(3.75 * s),
                x13.cos_times(4.25 * s),
                x14.cos_times(4.5 * s),
                x15.cos_times(4.75 * s),
            )
        },
    )
}

/// The forward rule of [`g16`]: dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·dxᵢⱼ.
fn g16_jvp(
    x0: f64,
    x1: &[f64],
    x2: &Array1<f64>,
    x3: usize,
    x4: f64,
    x5: &[usize],
    x6: &[f64],
    x7: f64,
    x8: &Array1<f64>,
    x9: usize,
    x10: &[f64],
    x11: f64,
    x12: &[usize],
    x13: &Array1<f64>,
    x14: f64,
    x15: &[f64],
    dx0: f64,
    dx1: &Vec<f64>,
    dx2: &Array1<f64>,
    dx4: f64,
    dx6: &Vec<f64>,
    dx7: f64,
    dx8: &Array1<f64>,
    dx10: &Vec<f64>,
    dx11: f64,
    dx13: &Array1<f64>,
    dx14: f64,
    dx15: &Vec<f64>,
) -> (f64, f64) {
    let k = k_of(&[x3, x9], &[x5, x12]);
    (
        k * (1.0 * x0.sum_sin()
            + 1.25 * x1.sum_sin()
            + 1.5 * x2.sum_sin()
            + 2.0 * x4.sum_sin()
            + 2.5 * x6.sum_sin()
            + 2.75 * x7.sum_sin()
            + 3.0 * x8.sum_sin()
            + 3.5 * x10.sum_sin()
            + 3.75 * x11.sum_sin()
            + 4.25 * x13.sum_sin()
            + 4.5 * x14.sum_sin()
            + 4.75 * x15.sum_sin()),
        k * (1.0 * x0.cos_dot(&dx0)
            + 1.25 * x1.cos_dot(dx1)
            + 1.5 * x2.cos_dot(dx2)
            + 2.0 * x4.cos_dot(&dx4)
            + 2.5 * x6.cos_dot(dx6)
            + 2.75 * x7.cos_dot(&dx7)
            + 3.0 * x8.cos_dot(dx8)
            + 3.5 * x10.cos_dot(dx10)
            + 3.75 * x11.cos_dot(&dx11)
            + 4.25 * x13.cos_dot(dx13)
            + 4.5 * x14.cos_dot(&dx14)
            + 4.75 * x15.cos_dot(dx15)),
    )
}

/// A forward rule of [`g16`]'s shape that returns the tangents it is given.
fn g16_echo(
    _x0: f64,
    _x1: &[f64],
    _x2: &Array1<f64>,
    _x3: usize,
    _x4: f64,
    _x5: &[usize],
    _x6: &[f64],
    _x7: f64,
    _x8: &Array1<f64>,
    _x9: usize,
    _x10: &[f64],
    _x11: f64,
    _x12: &[usize],
    _x13: &Array1<f64>,
    _x14: f64,
    _x15: &[f64],
    dx0: f64,
    dx1: &Vec<f64>,
    dx2: &Array1<f64>,
    dx4: f64,
    dx6: &Vec<f64>,
    dx7: f64,
    dx8: &Array1<f64>,
    dx10: &Vec<f64>,
    dx11: f64,
    dx13: &Array1<f64>,
    dx14: f64,
    dx15: &Vec<f64>,
) -> (
    f64,
    Vec<f64>,
    Array1<f64>,
    f64,
    Vec<f64>,
    f64,
    Array1<f64>,
    Vec<f64>,
    f64,
    Array1<f64>,
    f64,
    Vec<f64>,
) {
    (
        dx0,
        dx1.clone(),
        dx2.clone(),
        dx4,
        dx6.clone(),
        dx7,
        dx8.clone(),
        dx10.clone(),
        dx11,
        dx13.clone(),
        dx14,
        dx15.clone(),
    )
}

#[test]
fn sixteen_arguments() {
    let v1 = vec![-0.4, 0.1, 0.6];
    let v2 = array![0.3, 0.8, -1.0];
    let v5 = vec![1usize, 1];
    let v6 = [0.8, -1.0];
    let v8 = array![-0.1, 0.4, 0.9];
    let v10 = [-1.0, -0.5];
    let v12 = [0usize, 1];
    let v13 = array![1.1, -0.7, -0.2];
    let v15 = [0.2, 0.7, -1.1];
    let (x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15) = (
        -1.1,
        &v1,
        &v2,
        0usize,
        -0.6,
        &v5,
        &v6[..],
        -0.8,
        &v8,
        0usize,
        &v10[..],
        -0.3,
        &v12[..],
        &v13,
        -0.5,
        &v15[..],
    );
    let k = k_of(&[x3, x9], &[x5, x12]);

    // Reverse, as the generated backward pass does it.
    let (y, pb) = g16_vjp(
        x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
    );
    let sel = {
        #[allow(unused_imports)] // as in generated code, where some calls need only one
        use autodiff::__private::{ProbeNo as _, ProbeYes as _};
        (
            (&Probe(&x0)).marker(),
            (&Probe(&x1)).marker(),
            (&Probe(&x2)).marker(),
            (&Probe(&x3)).marker(),
            (&Probe(&x4)).marker(),
            (&Probe(&x5)).marker(),
            (&Probe(&x6)).marker(),
            (&Probe(&x7)).marker(),
            (&Probe(&x8)).marker(),
            (&Probe(&x9)).marker(),
            (&Probe(&x10)).marker(),
            (&Probe(&x11)).marker(),
            (&Probe(&x12)).marker(),
            (&Probe(&x13)).marker(),
            (&Probe(&x14)).marker(),
            (&Probe(&x15)).marker(),
        )
    };
    let (d0, d1, d2, d3, d4, d5, d6, d7, d8, d9, d10, d11, d12, d13, d14, d15) =
        spread(sel, pb(1.0));
    assert_eq!(
        y,
        g16(
            x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15
        )
    );
    // Each non-differentiable argument gets `()`; each other its own gradient,
    // ∂g/∂xᵢⱼ = K·cᵢ·cos xᵢⱼ, checked against central finite differences.
    let ((), (), (), ()) = (d3, d5, d9, d12);
    close_all("∂x0", &d0, &x0.cos_times(k * 1.0));
    assert_gradient(
        |x: &f64| {
            g16(
                *x, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
            )
        },
        &x0,
        &d0,
    );
    close_all("∂x1", &d1, &x1.cos_times(k * 1.25));
    assert_gradient(
        |x: &Vec<f64>| {
            g16(
                x0, x, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
            )
        },
        &x1.to_vec(),
        &d1,
    );
    close_all("∂x2", &d2, &x2.cos_times(k * 1.5));
    assert_gradient(
        |x: &Array1<f64>| {
            g16(
                x0, x1, x, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
            )
        },
        x2,
        &d2,
    );
    close_all("∂x4", &d4, &x4.cos_times(k * 2.0));
    assert_gradient(
        |x: &f64| {
            g16(
                x0, x1, x2, x3, *x, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
            )
        },
        &x4,
        &d4,
    );
    close_all("∂x6", &d6, &x6.cos_times(k * 2.5));
    assert_gradient(
        |x: &Vec<f64>| {
            g16(
                x0, x1, x2, x3, x4, x5, x, x7, x8, x9, x10, x11, x12, x13, x14, x15,
            )
        },
        &x6.to_vec(),
        &d6,
    );
    close_all("∂x7", &d7, &x7.cos_times(k * 2.75));
    assert_gradient(
        |x: &f64| {
            g16(
                x0, x1, x2, x3, x4, x5, x6, *x, x8, x9, x10, x11, x12, x13, x14, x15,
            )
        },
        &x7,
        &d7,
    );
    close_all("∂x8", &d8, &x8.cos_times(k * 3.0));
    assert_gradient(
        |x: &Array1<f64>| {
            g16(
                x0, x1, x2, x3, x4, x5, x6, x7, x, x9, x10, x11, x12, x13, x14, x15,
            )
        },
        x8,
        &d8,
    );
    close_all("∂x10", &d10, &x10.cos_times(k * 3.5));
    assert_gradient(
        |x: &Vec<f64>| {
            g16(
                x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x, x11, x12, x13, x14, x15,
            )
        },
        &x10.to_vec(),
        &d10,
    );
    close_all("∂x11", &d11, &x11.cos_times(k * 3.75));
    assert_gradient(
        |x: &f64| {
            g16(
                x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, *x, x12, x13, x14, x15,
            )
        },
        &x11,
        &d11,
    );
    close_all("∂x13", &d13, &x13.cos_times(k * 4.25));
    assert_gradient(
        |x: &Array1<f64>| {
            g16(
                x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x, x14, x15,
            )
        },
        x13,
        &d13,
    );
    close_all("∂x14", &d14, &x14.cos_times(k * 4.5));
    assert_gradient(
        |x: &f64| {
            g16(
                x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, *x, x15,
            )
        },
        &x14,
        &d14,
    );
    close_all("∂x15", &d15, &x15.cos_times(k * 4.75));
    assert_gradient(
        |x: &Vec<f64>| {
            g16(
                x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x,
            )
        },
        &x15.to_vec(),
        &d15,
    );

    // Forward: tangents for some differentiable arguments, the others inactive in the caller
    // (zero tangents shaped like them); a stray tangent on the integer x3 is dropped.
    let t0 = -0.6;
    let t2 = array![1.0, -0.6, 0.0];
    let t6 = vec![0.6, -1.0];
    let t8 = array![0.4, 1.0, -0.6];
    let t11 = 0.65;
    let t14 = -0.6;
    let mut slots = (
        tan(t0),
        no_tan(),
        tan(t2.clone()),
        tan(0.5),
        no_tan(),
        no_tan(),
        tan(t6.clone()),
        no_tan(),
        tan(t8.clone()),
        no_tan(),
        no_tan(),
        tan(t11),
        no_tan(),
        no_tan(),
        tan(t14),
        no_tan(),
    );
    let (y, dy) = call_jvp(
        g16_jvp,
        sel,
        (
            x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
        ),
        &mut slots,
    );
    assert_eq!(
        y,
        g16(
            x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15
        )
    );
    // dg = K·Σᵢ cᵢ·Σⱼ cos xᵢⱼ·tᵢⱼ over the arguments with a tangent, and the central difference
    // of s ↦ g(x + s·t) at 0.
    close(
        "dg",
        dy,
        k * (1.0 * x0.cos_dot(&t0)
            + 1.5 * x2.cos_dot(&t2)
            + 2.5 * x6.cos_dot(&t6)
            + 3.0 * x8.cos_dot(&t8)
            + 3.75 * x11.cos_dot(&t11)
            + 4.5 * x14.cos_dot(&t14)),
        TOL,
    );
    assert_gradient(
        |s: &f64| {
            g16(
                x0.moved(*s, &t0),
                x1,
                &x2.moved(*s, &t2),
                x3,
                x4,
                x5,
                &x6.moved(*s, &t6),
                x7,
                &x8.moved(*s, &t8),
                x9,
                x10,
                x11.moved(*s, &t11),
                x12,
                x13,
                x14.moved(*s, &t14),
                x15,
            )
        },
        &0.0,
        &dy,
    );

    // The tangents themselves: as given, or zeros shaped like their arguments.
    let mut slots = (
        tan(t0),
        no_tan(),
        tan(t2.clone()),
        tan(0.5),
        no_tan(),
        no_tan(),
        tan(t6.clone()),
        no_tan(),
        tan(t8.clone()),
        no_tan(),
        no_tan(),
        tan(t11),
        no_tan(),
        no_tan(),
        tan(t14),
        no_tan(),
    );
    let tangents = call_jvp(
        g16_echo,
        sel,
        (
            x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15,
        ),
        &mut slots,
    );
    assert_eq!(
        tangents,
        (
            t0,
            vec![0.0; x1.len()],
            t2.clone(),
            0.0,
            t6.clone(),
            0.0,
            t8.clone(),
            vec![0.0; x10.len()],
            t11,
            Array1::zeros(x13.len()),
            t14,
            vec![0.0; x15.len()]
        )
    );
}

#[test]
fn one_argument_without_a_tangent_gets_zero() {
    // The one argument is differentiable but inactive in the caller: g1_jvp gets dx0 = 0.
    let x0 = 0.8;
    let sel = {
        #[allow(unused_imports)] // as in generated code, where some calls need only one
        use autodiff::__private::{ProbeNo as _, ProbeYes as _};
        ((&Probe(&x0)).marker(),)
    };
    let (y, dy) = call_jvp(g1_jvp, sel, (x0,), &mut (no_tan(),));
    assert_eq!((y, dy), (x0.sin(), 0.0));
}

/// Forward over reverse through the same adapter: `g7_vjp_jvp` returns a pullback that borrows
/// its tangents, so the slots must outlive the call. With `(ȳ, dȳ) = (1, 0)` the pullback gives
/// the gradient and the Hessian-vector product `H·v`, both spread over the arguments.
#[test]
fn seven_arguments_forward_over_reverse() {
    let v1 = vec![0.3, -0.9];
    let v3 = array![0.2, 1.4, -0.6];
    let v4 = [1usize, 1];
    let v6 = [-0.7, 0.5, 1.2];
    let (x0, x1, x2, x3, x4, x5, x6) = (0.6, &v1, 2usize, &v3, &v4[..], -1.2, &v6[..]);
    let k = k_of(&[x2], &[x4]);
    let sel = {
        #[allow(unused_imports)] // as in generated code, where some calls need only one
        use autodiff::__private::{ProbeNo as _, ProbeYes as _};
        (
            (&Probe(&x0)).marker(),
            (&Probe(&x1)).marker(),
            (&Probe(&x2)).marker(),
            (&Probe(&x3)).marker(),
            (&Probe(&x4)).marker(),
            (&Probe(&x5)).marker(),
            (&Probe(&x6)).marker(),
        )
    };
    // The direction v: x5 is inactive in the caller, so its component is zero.
    let (t0, t1, t3, t6) = (
        -0.4,
        vec![1.1, 0.2],
        array![0.5, -0.3, 0.9],
        vec![0.1, -1.0, 0.6],
    );
    let mut slots = (
        tan(t0),
        tan(t1.clone()),
        no_tan(),
        tan(t3.clone()),
        no_tan(),
        no_tan(),
        tan(t6.clone()),
    );
    let (y, dy, pullback) = call_jvp(g7_vjp_jvp, sel, (x0, x1, x2, x3, x4, x5, x6), &mut slots);
    assert_eq!(y, g7(x0, x1, x2, x3, x4, x5, x6));
    let dy_expected = k * (x0.cos_dot(&t0) + 1.25 * x1.cos_dot(&t1) + 1.75 * x3.cos_dot(&t3))
        + k * 2.5 * x6.cos_dot(&t6);
    close("dg", dy, dy_expected, TOL);

    let (gradient, hv) = pullback(1.0, 0.0);
    let (g0, g1, (), g3, (), g5, g6) = spread(sel, gradient);
    let (h0, h1, (), h3, (), h5, h6) = spread(sel, hv);
    // The gradient, K·cᵢ·cos xᵢ, as g7_vjp gives it.
    let (r0, r1, (), r3, (), r5, r6) = spread(sel, g7_vjp(x0, x1, x2, x3, x4, x5, x6).1(1.0));
    close_all("∂x0", &g0, &r0);
    close_all("∂x1", &g1, &r1);
    close_all("∂x3", &g3, &r3);
    close_all("∂x5", &g5, &r5);
    close_all("∂x6", &g6, &r6);
    // (H·v)ᵢⱼ = −K·cᵢ·sin xᵢⱼ·vᵢⱼ, zero where v is.
    close_all("(Hv)0", &h0, &x0.cos_times_tangent(k, 0.0, &t0));
    close_all("(Hv)1", &h1, &x1.cos_times_tangent(k * 1.25, 0.0, &t1));
    close_all("(Hv)3", &h3, &x3.cos_times_tangent(k * 1.75, 0.0, &t3));
    close("(Hv)5", h5, 0.0, 0.0);
    close_all("(Hv)6", &h6, &x6.cos_times_tangent(k * 2.5, 0.0, &t6));

    // vᵀ·H·v is the derivative at s = 0 of s ↦ vᵀ·∇g(x + s·v): a central difference of gradients.
    let v_grad = |s: f64| {
        let (y1, y3, y6) = (x1.moved(s, &t1), x3.moved(s, &t3), x6.moved(s, &t6));
        let (_, pb) = g7_vjp(x0.moved(s, &t0), &y1, x2, &y3, x4, x5, &y6);
        let (d0, d1, d3, _, d6) = pb(1.0);
        t0 * d0 + t1.inner(&d1) + t3.inner(&d3) + t6.inner(&d6)
    };
    let vhv = t0 * h0 + t1.inner(&h1) + t3.inner(&h3) + t6.inner(&h6);
    assert_gradient(|s: &f64| v_grad(*s), &0.0, &vhv);
}

/// `h = Σⱼ sin x0ⱼ + 2·Σⱼ sin x1ⱼ`, taking `x0` by value.
fn h(x0: Vec<f64>, x1: &[f64]) -> f64 {
    x0.sum_sin() + 2.0 * x1.sum_sin()
}

/// The forward rule of [`h`]: the tangent of `x0` by value, of `x1` by reference.
fn h_jvp(x0: Vec<f64>, x1: &[f64], dx0: Vec<f64>, dx1: &Vec<f64>) -> (f64, f64) {
    let dy = x0.cos_dot(&dx0) + 2.0 * x1.cos_dot(dx1);
    (h(x0, x1), dy)
}

/// A parameter taken by value receives its tangent by value: moved out of its slot, or a zero of
/// the argument's shape.
#[test]
fn by_value_parameters_take_their_tangent_by_value() {
    let (v0, v1) = (vec![0.4, -1.3, 2.0], vec![0.9, 0.1]);
    let (t0, t1) = (vec![1.0, 0.5, -0.5], vec![-2.0, 0.3]);
    // The markers are taken before the by-value argument moves into the call.
    let (x0, x1) = (v0.clone(), &v1);
    let sel = {
        #[allow(unused_imports)] // as in generated code, where some calls need only one
        use autodiff::__private::{ProbeNo as _, ProbeYes as _};
        ((&Probe(&x0)).marker(), (&Probe(&x1)).marker())
    };
    let mut slots = (tan(t0.clone()), no_tan());
    let (y, dy) = call_jvp(h_jvp, sel, (x0, x1), &mut slots);
    assert_eq!(y, h(v0.clone(), &v1));
    // dh = Σⱼ cos x0ⱼ·t0ⱼ
    close("dh along x0", dy, v0.cos_dot(&t0), TOL);
    assert_gradient(|s: &f64| h(v0.moved(*s, &t0), &v1), &0.0, &dy);

    let mut slots = (no_tan(), tan(t1.clone()));
    let (_, dy) = call_jvp(h_jvp, sel, (v0.clone(), &v1), &mut slots);
    // dh = 2·Σⱼ cos x1ⱼ·t1ⱼ
    close("dh along x1", dy, 2.0 * v1.cos_dot(&t1), TOL);
    assert_gradient(|s: &f64| h(v0.clone(), &v1.moved(*s, &t1)), &0.0, &dy);
}
