//! Geoscience and climate models: settings kept beside the calibrated parameters. Each function
//! is checked against its analytic derivative (stated beside it) and central finite
//! differences.
//!
//! A setting that may be off, kept in a parameter struct's field marked
//! `#[differentiable(data)]` (`scale: Option<f64>`, an observation operator's optional gain),
//! and taken apart where it is read (`if let Some(s) = p.scale`, `match p.scale { Some(s) =>
//! .., None => .. }`) was an error that spoke of local `Option`s: the payload was taken for a
//! differentiated value. An `Option` has no gradient type, so a derived struct holds one only
//! as data, and its payload is a constant, as an enum field's payloads are. Read by
//! `p.gain.unwrap_or(1.0)` (or `unwrap_or_default()`), the method was rustc's "no
//! `unwrap_or_vjp`" in the generated code: it is now the `match` it stands for.

use autodiff::check::hvpcheck;
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

/// A linear reservoir observed through an optional gain: `L(k) = Σ_i (s·k·x_i − y_i)²` with
/// `s` the gain or 1 where it is off, so `∂L/∂k = Σ_i 2 (s k x_i − y_i) s x_i` and
/// `∂²L/∂k² = Σ_i 2 s² x_i²`.
#[derive(Clone, Debug, Differentiable)]
pub struct Reservoir {
    pub k: f64,
    #[differentiable(data)]
    pub gain: Option<f64>,
}

#[differentiate(wrt(self), hessian)]
impl Reservoir {
    fn misfit(&self, x: &[f64], y: &[f64]) -> f64 {
        let s = if let Some(s) = self.gain { s } else { 1.0 };
        let mut c = 0.0;
        for i in 0..x.len() {
            let r = s * self.k * x[i] - y[i];
            c += r * r;
        }
        c
    }
}

/// The same misfit, the gain taken apart by a `match` of a free function's parameter struct.
#[differentiate(wrt(p))]
fn misfit_match(p: &Reservoir, x: &[f64], y: &[f64]) -> f64 {
    let mut c = 0.0;
    for i in 0..x.len() {
        let q = match p.gain {
            Some(s) => s * p.k * x[i],
            None => p.k * x[i],
        };
        c += (q - y[i]) * (q - y[i]);
    }
    c
}

#[test]
fn an_optional_setting_in_a_data_field_is_a_constant() {
    let x = data(6, 1.0);
    let y = data(6, 2.0);
    for gain in [None, Some(1.5), Some(-0.25)] {
        let k = 0.7;
        let res = Reservoir { k, gain };
        let s = gain.unwrap_or(1.0);
        let d: f64 = (0..6).map(|i| 2.0 * (s * k * x[i] - y[i]) * s * x[i]).sum();
        let h: f64 = (0..6).map(|i| 2.0 * s * s * x[i] * x[i]).sum();
        let (v, g) = Reservoir::misfit_grad(&res, &x, &y);
        assert_eq!(v, res.misfit(&x, &y));
        close("∂L/∂k", g.k, d, TOL);
        let at = |k: f64| Reservoir { k, gain };
        fd("∂L/∂k", |k| at(k).misfit(&x, &y), k, g.k);
        let mut t = res.zero_like();
        t.k = 1.0;
        let (_, jt) = Reservoir::misfit_jvp(&res, &x, &y, &t);
        close("jvp", jt, d, TOL);
        let (_, _, hv) = Reservoir::misfit_hvp(&res, &x, &y, &t);
        close("∂²L/∂k²", hv.k, h, TOL);
        let r = hvpcheck(
            |p: &Reservoir| Reservoir::misfit_grad(p, &x, &y).1,
            &res,
            &t,
            &hv,
        );
        assert!(r.passed(), "{r}");
        let (v, g) = misfit_match_grad(&res, &x, &y);
        assert_eq!(v, misfit_match(&res, &x, &y));
        close("∂L/∂k (match)", g.k, d, TOL);
        fd("∂L/∂k (match)", |k| misfit_match(&at(k), &x, &y), k, g.k);
        let (_, jt) = misfit_match_jvp(&res, &x, &y, &t);
        close("jvp (match)", jt, d, TOL);
    }
}

/// A degree-day melt model whose optional settings are read with `unwrap_or`: with `s` the
/// gain or 1, `i` the reference station or 0 and `c` the offset or 0,
/// `M(d) = s·d·t_i + d²·c`, so `∂M/∂d = s·t_i + 2dc`.
#[derive(Clone, Debug, Differentiable)]
pub struct Melt {
    pub ddf: f64,
    #[differentiable(data)]
    pub gain: Option<f64>,
    #[differentiable(data)]
    pub station: Option<usize>,
    #[differentiable(data)]
    pub offset: Option<f64>,
}

#[differentiate(wrt(m))]
fn melt(m: &Melt, temps: &[f64]) -> f64 {
    let s = m.gain.unwrap_or(1.0);
    let i = m.station.unwrap_or(0);
    s * m.ddf * temps[i] + m.ddf * m.ddf * m.offset.unwrap_or_default()
}

#[test]
fn an_optional_setting_read_with_unwrap_or_is_a_constant() {
    let temps = [1.5, 4.0, 7.5];
    for (gain, station, offset) in [(None, None, None), (Some(1.5), Some(2), Some(0.25))] {
        let d = 3.0;
        let m = Melt {
            ddf: d,
            gain,
            station,
            offset,
        };
        let (s, i, c) = (
            gain.unwrap_or(1.0),
            station.unwrap_or(0),
            offset.unwrap_or(0.0),
        );
        let expected = s * temps[i] + 2.0 * d * c;
        let (v, g) = melt_grad(&m, &temps);
        assert_eq!(v, melt(&m, &temps));
        close("∂M/∂d", g.ddf, expected, TOL);
        fd(
            "∂M/∂d",
            |d| {
                melt(
                    &Melt {
                        ddf: d,
                        gain,
                        station,
                        offset,
                    },
                    &temps,
                )
            },
            d,
            g.ddf,
        );
        let mut t = m.zero_like();
        t.ddf = 1.0;
        let (_, jt) = melt_jvp(&m, &temps, &t);
        close("jvp", jt, expected, TOL);
    }
}
