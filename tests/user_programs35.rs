//! Embedded and codec code written the way a firmware engineer writes it: `f32` throughout,
//! filter and codec settings kept in a derived struct beside integer fields (an order, a shift,
//! a sample count), read with the integer types' own methods. Each gradient is checked against
//! its analytic value (stated beside the test) and central finite differences.
//!
//! What was wrong for these programs: an integer field of a derived struct given `max`, `min`,
//! `clamp`, `rem_euclid` or `div_euclid` with integer arguments (`self.n.max(1)`,
//! `self.shift.clamp(-1, 1)`) was taken for the float rule of that name, and the integer
//! types' own methods on such a field (`self.n.count_ones()`, `self.n.wrapping_add(1)`,
//! `self.shift.unsigned_abs()`) for methods of a struct of the user's: both were rustc errors
//! inside the generated code ("this float method is called on `u32`", "no function
//! `count_ones_vjp` for `u32`"). Integer arguments make the receiver an integer, and those
//! methods are integers' only: they run as written, with no derivative, the receiver checked
//! to be an integer. So, by the same reading, is the result of a plain helper that such a
//! method reads (`let code = quantize(v, step);` with `code.unsigned_abs()`): it was rustc's
//! "cannot find `quantize_vjp`" at the call, and is now an integer like one used as an index.

use autodiff::check::finite_difference;
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

/// A quantiser's settings: a step and an offset, a sample count and a shift that pick how the
/// error is averaged and which tap is read.
#[derive(Clone, Debug, Differentiable)]
pub struct Quant {
    pub step: f32,
    pub bias: f32,
    pub taps: [f32; 3],
    pub n: u32,
    pub shift: i32,
}

#[differentiate(hessian)]
impl Quant {
    /// `E = Σ_i (x_i·step·t_{(i+k) mod 3} + bias·c)² / n' + 0.001·w·step` with `n' =
    /// max(n, 1)`, `k = min(|shift|, 2)`, `c = clamp(shift, −1, 1)`, `w = popcount(n) +
    /// (n + 1 wrapping) + n rem 3`: integers, so with `r_i` the residual,
    /// `∂E/∂step = Σ 2 r_i x_i t_i / n' + 0.001 w`, `∂E/∂bias = Σ 2 r_i c / n'`,
    /// `∂E/∂t_j = Σ_{i: (i+k) mod 3 = j} 2 r_i x_i step / n'`.
    pub fn cost(&self, x: &[f32]) -> f32 {
        let n = self.n.max(1) as f32;
        let k = self.shift.unsigned_abs().min(2) as usize;
        let c = self.shift.clamp(-1, 1) as f32;
        let w = (self.n.count_ones() + self.n.wrapping_add(1) + self.n.rem_euclid(3)) as f32;
        let mut e = 0.0f32;
        for (i, &v) in x.iter().enumerate() {
            let t = self.taps[(i + k) % 3];
            e += (v * self.step * t + self.bias * c).powi(2) / n;
        }
        e + 0.001 * w * self.step
    }
}

/// The same reads in a free function on the struct taken by reference.
#[differentiate]
fn quant_cost(q: &Quant, x: &[f32]) -> f32 {
    let n = q.n.saturating_sub(1).max(1) as f32;
    let k = q.shift.abs_diff(0).min(2) as usize;
    let mut e = 0.0f32;
    for (i, &v) in x.iter().enumerate() {
        e += (v * q.step * q.taps[(i + k) % 3] - q.bias).powi(2) / n;
    }
    e
}

fn quant() -> Quant {
    Quant {
        step: 0.5,
        bias: 0.2,
        taps: [0.3, 0.6, 0.9],
        n: 6,
        shift: -5,
    }
}

const X: [f32; 4] = [0.4, -0.7, 1.1, 0.2];

fn leaves(q: &Quant) -> Vec<f64> {
    let mut v = vec![q.step as f64, q.bias as f64];
    v.extend(q.taps.iter().map(|&t| t as f64));
    v
}

fn with_leaves(p: &[f64]) -> Quant {
    Quant {
        step: p[0] as f32,
        bias: p[1] as f32,
        taps: [p[2] as f32, p[3] as f32, p[4] as f32],
        ..quant()
    }
}

#[test]
fn integer_fields_read_with_integer_methods_in_a_method() {
    let q = quant();
    let (v, (g, _)) = Quant::cost_grad(&q, &X);
    assert_eq!(v, q.cost(&X));
    // Analytic: n' = 6, k = 2, c = −1, w = popcount(6) + 7 + 0 = 9.
    let (n, k, c, w) = (6.0f32, 2usize, -1.0f32, 9.0f32);
    let (mut ds, mut db, mut dt) = (0.001 * w, 0.0f32, [0.0f32; 3]);
    for (i, &x) in X.iter().enumerate() {
        let j = (i + k) % 3;
        let r = x * q.step * q.taps[j] + q.bias * c;
        ds += 2.0 * r * x * q.taps[j] / n;
        db += 2.0 * r * c / n;
        dt[j] += 2.0 * r * x * q.step / n;
    }
    close("∂step", g.step as f64, ds as f64, 1e-5);
    close("∂bias", g.bias as f64, db as f64, 1e-5);
    for j in 0..3 {
        close(&format!("∂t{j}"), g.taps[j] as f64, dt[j] as f64, 1e-5);
    }
    assert_eq!(
        (g.n, g.shift),
        (q.n, q.shift),
        "integer fields are the value's"
    );
    let fd = finite_difference(
        |p: &Vec<f64>| with_leaves(p).cost(&X) as f64,
        &leaves(&q),
        1e-3,
    );
    let got = [g.step, g.bias, g.taps[0], g.taps[1], g.taps[2]];
    for (k, (&a, &e)) in got.iter().zip(&fd).enumerate() {
        close(&format!("fd {k}"), a as f64, e, 1e-2);
    }
    // Forward mode along the step only: the integers carry no tangent.
    let dir = Quant {
        step: 1.0,
        bias: 0.0,
        taps: [0.0; 3],
        ..quant()
    };
    let (_, t) = Quant::cost_jvp(&q, &X, &dir, &vec![0.0; 4]);
    close("jvp", t as f64, ds as f64, 1e-5);
    // Second order: ∂²E/∂step² = Σ 2 x_i² t_i² / n'.
    let (_, _, hv) = Quant::cost_hvp(&q, &X, &dir, &vec![0.0; 4]);
    let h: f32 = (X.iter().enumerate())
        .map(|(i, &x)| 2.0 * x * x * q.taps[(i + k) % 3].powi(2) / n)
        .sum();
    close("hvp", hv.0.step as f64, h as f64, 1e-5);
}

#[test]
fn integer_fields_read_with_integer_methods_in_a_function() {
    let q = quant();
    let (v, (g, _)) = quant_cost_grad(&q, &X);
    assert_eq!(v, quant_cost(&q, &X));
    // Analytic: n' = max(6 − 1, 1) = 5, k = min(|−5 − 0|, 2) = 2;
    // ∂/∂bias = −Σ 2 r_i / n', ∂/∂step = Σ 2 r_i x_i t_i / n'.
    let (n, k) = (5.0f32, 2usize);
    let (mut ds, mut db) = (0.0f32, 0.0f32);
    for (i, &x) in X.iter().enumerate() {
        let t = q.taps[(i + k) % 3];
        let r = x * q.step * t - q.bias;
        ds += 2.0 * r * x * t / n;
        db -= 2.0 * r / n;
    }
    close("∂step", g.step as f64, ds as f64, 1e-5);
    close("∂bias", g.bias as f64, db as f64, 1e-5);
    let fd = finite_difference(
        |p: &Vec<f64>| quant_cost(&with_leaves(p), &X) as f64,
        &leaves(&q),
        1e-3,
    );
    close("fd step", g.step as f64, fd[0], 1e-2);
    close("fd bias", g.bias as f64, fd[1], 1e-2);
}

/// A codec's quantiser written as a plain helper returning the integer code, beside a
/// differentiated dequantiser taking it.
fn quantize(v: f32, step: f32) -> i32 {
    (v / step).round() as i32
}

#[differentiate]
fn dequantize(c: i32, step: f32) -> f32 {
    c as f32 * step
}

/// Rate–distortion of a uniform quantiser: `D = Σ (c_i·step − x_i)²` with the integer codes
/// `c_i = round(x_i/step)` (no derivative), `R = Σ log₂(|c_i| + 1)`, `L = D + λR`. So
/// `∂L/∂x_i = −2 (c_i·step − x_i)`, `∂L/∂step = Σ 2 (c_i·step − x_i) c_i`, `∂L/∂λ = R`.
#[differentiate]
fn codec_rd(x: &[f32], step: f32, lambda: f32) -> f32 {
    let mut d = 0.0f32;
    let mut r = 0.0f32;
    for &v in x {
        let code = quantize(v, step);
        let rec = dequantize(code, step);
        d += (rec - v) * (rec - v);
        r += (code.unsigned_abs() as f32 + 1.0).log2();
    }
    d + lambda * r
}

#[test]
fn an_integer_code_from_a_plain_helper_read_by_an_integer_method() {
    let x = [0.13f32, -0.52, 0.77, 0.31];
    let (v, (gx, gs, gl)) = codec_rd_grad(&x, 0.2, 0.1);
    assert_eq!(v, codec_rd(&x, 0.2, 0.1));
    let (mut es, mut el) = (0.0f32, 0.0f32);
    for i in 0..4 {
        let c = (x[i] / 0.2f32).round();
        let e = c * 0.2 - x[i];
        close(&format!("∂x{i}"), gx[i] as f64, (-2.0 * e) as f64, 1e-5);
        es += 2.0 * e * c;
        el += (c.abs() + 1.0).log2();
    }
    close("∂step", gs as f64, es as f64, 1e-5);
    close("∂λ", gl as f64, el as f64, 1e-5);
    // Away from the codes' jumps, central differences in λ and x agree.
    let fd = finite_difference(|p: &f64| codec_rd(&x, 0.2, *p as f32) as f64, &0.1, 1e-2);
    close("fd λ", gl as f64, fd, 1e-3);
    let (_, t) = codec_rd_jvp(&x, 0.2, 0.1, &vec![1.0, 0.0, 0.0, 0.0], 0.0, 0.0);
    close("jvp", t as f64, gx[0] as f64, 1e-5);
}

/// A polynomial evaluated with `powf` of each term's degree, the constant term `x.powf(0.0)`
/// included, as curve fits of a sensor's response write it: `p(x) = Σ_k c_k x^k`, so
/// `p′(x) = Σ_k k c_k x^(k−1)` and `p″(x) = Σ_k k (k − 1) c_k x^(k−2)`, finite everywhere.
/// At a sample of exactly zero the second derivative was NaN: the tangent of `powf`'s
/// derivative `p·xᵖ⁻¹` was written `p·(p − 1)·xᵖ⁻²`, `0·∞` for `p = 0`, where the derivative is
/// the constant `0`.
#[differentiate(hessian)]
fn sensor_curve(x: f32, c: &[f32; 4]) -> f32 {
    let mut s = 0.0f32;
    for (k, &ck) in c.iter().enumerate() {
        s += ck * x.powf(k as f32);
    }
    s
}

#[differentiate(hessian)]
fn sensor_curve_generic<T: num_traits::Float>(x: T, c: &[T]) -> T {
    let mut s = T::zero();
    for (k, &ck) in c.iter().enumerate() {
        s = s + ck * x.powf(T::from(k).unwrap());
    }
    s
}

#[differentiate(wrt(x), hessian)]
fn sensor_curve_array(x: &ndarray::Array1<f64>) -> f64 {
    (x.powf(0.0) * 0.5 + x.powf(2.0) * 3.0).sum()
}

#[test]
fn a_power_of_degree_zero_has_a_finite_second_derivative_at_zero() {
    let c = [0.5f32, -1.0, 2.0, 0.25];
    for &x in &[0.0f32, 0.7] {
        let p1: f32 = (1..4).map(|k| k as f32 * c[k] * x.powi(k as i32 - 1)).sum();
        let p2: f32 = (2..4)
            .map(|k| (k * (k - 1)) as f32 * c[k] * x.powi(k as i32 - 2))
            .sum();
        let (_, (g, _)) = sensor_curve_grad(x, &c);
        close(&format!("p′({x})"), g as f64, p1 as f64, 1e-6);
        let (_, _, (h, hc)) = sensor_curve_hvp(x, &c, 1.0, &[0.0; 4]);
        close(&format!("p″({x})"), h as f64, p2 as f64, 1e-5);
        // ∂²p/∂c_k∂x = k x^(k−1): 0, 1, 2x, 3x².
        let e = [0.0, 1.0, 2.0 * x, 3.0 * x * x];
        for k in 0..4 {
            close(&format!("∂²/∂c{k}∂x"), hc[k] as f64, e[k] as f64, 1e-6);
        }
        // Against differences of the gradient.
        let d = 1e-3f32;
        let fd = (sensor_curve_grad(x + d, &c).1.0 - sensor_curve_grad(x - d, &c).1.0) / (2.0 * d);
        close(&format!("fd p″({x})"), h as f64, fd as f64, 1e-2);

        let cg: Vec<f64> = c.iter().map(|&v| v as f64).collect();
        let (_, _, (hg, _)) = sensor_curve_generic_hvp(x as f64, &cg, 1.0, &vec![0.0; 4]);
        close(&format!("generic p″({x})"), hg, p2 as f64, 1e-5);
    }
    // Elementwise on an array: d²/dx² (0.5 x⁰ + 3 x²) = 6 in every element, also at 0.
    let a = ndarray::arr1(&[0.0, 1.5, 0.0]);
    let (_, _, h) = sensor_curve_array_hvp(&a, &ndarray::arr1(&[1.0, 1.0, 1.0]));
    for (k, &v) in h.iter().enumerate() {
        close(&format!("array [{k}]"), v, 6.0, 1e-12);
    }
}
