//! Losses and probabilistic models of machine learning written by hand: attention split into
//! heads by index arithmetic on a layer's sizes (`x.ncols() / self.heads` of a data field),
//! and the other programs of that kind whose reproducers are kept here.
//!
//! Each gradient is checked against its analytic form (stated beside the test) and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)] // written as users write them

use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2, Axis, s};

mod common;
use common::*;

fn matrix(r: usize, c: usize, seed: f64) -> Array2<f64> {
    Array2::from_shape_vec((r, c), data(r * c, seed)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// A head's width from the layer's sizes and a data field: `x.ncols() / self.heads` divides
// integers (it was taken for arithmetic on the struct's arrays, rustc's errors in the
// generated code).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
pub struct Heads {
    pub w: Array1<f64>,
    #[differentiable(data)]
    pub heads: usize,
}

#[differentiate(wrt(self))]
impl Heads {
    /// `Σ_h Σ_i (Σ_{c ∈ h} x[i, c]·w[c])² / √dh`, `dh = d / heads`.
    fn pooled(&self, x: &Array2<f64>) -> f64 {
        let d = x.ncols();
        let dh = d / self.heads;
        let mut total = 0.0;
        for h in 0..self.heads {
            let lo = h * dh;
            let part = x.slice(s![.., lo..lo + dh]).dot(&self.w.slice(s![lo..lo + dh]));
            total += part.mapv(|v| v * v).sum() / (dh as f64).sqrt();
        }
        total
    }

    /// The same with the width from `len_of` and the rows from `nrows`.
    fn pooled_rows(&self, x: &Array2<f64>) -> f64 {
        let dh = x.len_of(Axis(1)) / self.heads;
        let n = x.nrows();
        let mut total = 0.0;
        for i in 0..n {
            for h in 0..self.heads {
                let s: f64 = (0..dh).map(|c| x[[i, h * dh + c]] * self.w[h * dh + c]).sum();
                total += s * s / (dh as f64).sqrt();
            }
        }
        total
    }
}

fn pooled_plain(w: &[f64], heads: usize, x: &Array2<f64>) -> f64 {
    let (n, d) = x.dim();
    let dh = d / heads;
    let mut total = 0.0;
    for i in 0..n {
        for h in 0..heads {
            let s: f64 = (h * dh..(h + 1) * dh).map(|c| x[[i, c]] * w[c]).sum();
            total += s * s / (dh as f64).sqrt();
        }
    }
    total
}

/// ∂/∂w[c] = 2/√dh · Σ_i s_{i, h(c)} · x[i, c], where `s_{i,h}` is row `i`'s dot product over
/// head `h` and `h(c) = c / dh`.
#[test]
fn head_width_from_ncols_and_a_data_field() {
    let x = matrix(3, 6, 0.4);
    for heads in [2, 3] {
        let m = Heads { w: Array1::from(data(6, 1.7)), heads };
        let dh = 6 / heads;
        let w = m.w.to_vec();
        let mut expected = vec![0.0; 6];
        for i in 0..3 {
            for c in 0..6 {
                let h = c / dh;
                let s: f64 = (h * dh..(h + 1) * dh).map(|k| x[[i, k]] * w[k]).sum();
                expected[c] += 2.0 * s * x[[i, c]] / (dh as f64).sqrt();
            }
        }
        for (v, g) in [m.pooled_grad(&x), m.pooled_rows_grad(&x)] {
            close("value", v, pooled_plain(&w, heads, &x), 1e-13);
            close("value", v, m.pooled(&x), 1e-13);
            close_all("∂w", g.w.as_slice().unwrap(), &expected);
            let r = autodiff::check::gradcheck(
                |p: &Vec<f64>| pooled_plain(p, heads, &x),
                &w,
                &g.w.to_vec(),
            );
            assert!(r.passed(), "{r}");
        }
    }
}
