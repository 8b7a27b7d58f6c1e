//! Helpers that write into buffers their caller passes as `&mut` (`matvec_into(a, x, &mut y)`),
//! as numerical Rust code writes them to avoid allocating: `#[differentiate]` on the helper
//! keeps it as written and differentiates a copy that takes each buffer by value and returns
//! it, and a differentiated caller's `&mut y` makes the helper's result a new version of `y`.
//! Buffers as slices, `Vec`s, fixed arrays, floats and ndarray arrays; helpers that return a
//! value beside what they write; methods of a struct; generic helpers; calls in loops.
//!
//! Each gradient is checked against its analytic form where it is short, against central finite
//! differences, and each value against the plain function's.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)] // written as users write them

use autodiff::check::gradcheck;
use autodiff::{Differentiable, differentiate};
use ndarray::Array1;
use num_traits::Float;

mod common;
use common::*;

/// y = A x for a row-major `A` of `out.len()` rows.
#[differentiate]
fn matvec_into(a: &[f64], x: &[f64], out: &mut [f64]) {
    let n = x.len();
    for i in 0..out.len() {
        let mut s = 0.0;
        for j in 0..n {
            s += a[i * n + j] * x[j];
        }
        out[i] = s;
    }
}

/// ‖A x‖²: ∂x = 2 Aᵀ A x, ∂A_ij = 2 (A x)_i x_j.
#[differentiate]
fn norm_sq_of_product(a: &[f64], x: &[f64]) -> f64 {
    let mut y = vec![0.0; a.len() / x.len()];
    matvec_into(a, x, &mut y);
    y.iter().map(|v| v * v).sum()
}

#[test]
fn a_helper_writing_a_slice_buffer() {
    let a = [1.0, 2.0, -0.5, 3.0, 4.0, 0.25];
    let x = [0.5, -1.0];
    let (v, (ga, gx)) = norm_sq_of_product_grad(&a, &x);
    close("value", v, norm_sq_of_product(&a, &x), 1e-15);
    let y: Vec<f64> = (0..3)
        .map(|i| a[2 * i] * x[0] + a[2 * i + 1] * x[1])
        .collect();
    for j in 0..2 {
        let want: f64 = (0..3).map(|i| 2.0 * y[i] * a[2 * i + j]).sum();
        close("∂x", gx[j], want, 1e-12);
    }
    for i in 0..3 {
        for j in 0..2 {
            close("∂A", ga[2 * i + j], 2.0 * y[i] * x[j], 1e-12);
        }
    }
    fd_vec("∂A fd", |a| norm_sq_of_product(a, &x), &a, &ga);
    fd_vec("∂x fd", |x| norm_sq_of_product(&a, x), &x, &gx);
}

/// Scales a `Vec` in place and returns a value: the buffer's new values and the result both
/// carry derivatives. The helper's own `_grad` is made as for any function with a `&mut`
/// parameter.
#[differentiate]
fn scale_in_place(x: &[f64], out: &mut Vec<f64>) -> f64 {
    for o in out.iter_mut() {
        *o *= x[0];
    }
    if x[0] > 100.0 {
        return 0.0;
    }
    out[0] * 2.0
}

/// Adds x₁² to a float through `&mut f64`.
#[differentiate]
fn count_into(x: &[f64], acc: &mut f64) {
    *acc += x[1] * x[1];
}

/// The helper called once for its result and once as a statement.
#[differentiate]
fn uses_scale_and_count(a: &[f64], x: &[f64]) -> f64 {
    let mut y = vec![0.0; 2];
    matvec_into(a, x, &mut y);
    let mut acc = 1.0;
    let r = scale_in_place(x, &mut y);
    count_into(x, &mut acc);
    scale_in_place(x, &mut y);
    count_into(x, &mut acc);
    y.iter().map(|v| v * v).sum::<f64>() + acc * r
}

#[test]
fn a_helper_writing_a_vec_and_a_float_and_returning_a_value() {
    let a = [1.0, 2.0, 3.0, 4.0];
    let x = [0.5, -1.0];
    let (v, (ga, gx)) = uses_scale_and_count_grad(&a, &x);
    close("value", v, uses_scale_and_count(&a, &x), 1e-15);
    fd_vec("∂A", |a| uses_scale_and_count(a, &x), &a, &ga);
    fd_vec("∂x", |x| uses_scale_and_count(&a, x), &x, &gx);
    // The helpers as written still write into the caller's buffers, and the one returning a
    // value has its own gradient: 2·x₀·out₀ → ∂x₀ = 2·out₀.
    let mut out = vec![1.5, 2.0];
    let r = scale_in_place(&x, &mut out);
    close("helper value", r, 3.0 * x[0], 1e-15);
    close_all("helper buffer", &out, &[1.5 * x[0], 2.0 * x[0]]);
    let mut out = vec![1.5, 2.0];
    let (_, (gx, gout)) = scale_in_place_grad(&x, &mut out);
    close("helper ∂x0", gx[0], 3.0, 1e-15);
    close("helper ∂out0", gout[0], 2.0 * x[0], 1e-15);
    let mut acc = 0.5;
    count_into(&x, &mut acc);
    close("helper float", acc, 0.5 + x[1] * x[1], 1e-15);
}

#[derive(Clone, Differentiable)]
struct Dense {
    w: Vec<f64>,
    b: Vec<f64>,
}

impl Dense {
    /// h = tanh(W x + b) into `h`.
    #[differentiate]
    fn forward_into(&self, x: &[f64], h: &mut [f64]) {
        let n = x.len();
        for i in 0..h.len() {
            let mut s = self.b[i];
            for j in 0..n {
                s += self.w[i * n + j] * x[j];
            }
            h[i] = s.tanh();
        }
    }
}

/// Σ h² of one dense layer, with the hidden buffer the caller's.
#[differentiate]
fn dense_energy(layer: &Dense, x: &[f64]) -> f64 {
    let mut h = vec![0.0; layer.b.len()];
    layer.forward_into(x, &mut h);
    let mut e = 0.0;
    for v in &h {
        e += v * v;
    }
    e
}

#[test]
fn a_method_writing_into_the_callers_buffer() {
    let layer = Dense {
        w: vec![0.3, -0.2, 0.5, 0.1, 0.7, -0.4],
        b: vec![0.05, -0.1, 0.2],
    };
    let x = [0.8, -0.6];
    let (v, (gl, gx)) = dense_energy_grad(&layer, &x);
    close("value", v, dense_energy(&layer, &x), 1e-15);
    // ∂b_i = 2 h_i (1 − h_i²)
    for i in 0..3 {
        let s = layer.b[i] + layer.w[2 * i] * x[0] + layer.w[2 * i + 1] * x[1];
        let h = s.tanh();
        close("∂b", gl.b[i], 2.0 * h * (1.0 - h * h), 1e-12);
    }
    fd_vec("∂x", |x| dense_energy(&layer, x), &x, &gx);
    let r = gradcheck(
        |w: &Vec<f64>| {
            let l = Dense {
                w: w.clone(),
                b: layer.b.clone(),
            };
            dense_energy(&l, &x)
        },
        &layer.w,
        &gl.w,
    );
    assert!(r.passed(), "{r}");
}

/// y ← a·x + y over a generic float.
#[differentiate]
fn axpy_into<T: Float>(a: T, x: &[T], y: &mut [T]) {
    for i in 0..y.len() {
        y[i] = a * x[i] + y[i];
    }
}

/// Σ (a·x + b·x + c)ᵢ² with two calls on one buffer: ∂a = 2 Σ rᵢ xᵢ, ∂b the same.
#[differentiate]
fn two_axpys<T: Float>(a: T, b: T, x: &[T], c: &[T]) -> T {
    let mut r = c.to_vec();
    axpy_into(a, x, &mut r);
    axpy_into(b, x, &mut r);
    let mut s = T::zero();
    for v in r.iter() {
        s = s + *v * *v;
    }
    s
}

#[test]
fn a_generic_helper_called_twice_on_one_buffer() {
    let x = [0.5, -1.5, 2.0];
    let c = [0.1, 0.2, -0.3];
    let (a, b) = (0.7, -0.2);
    let (v, (ga, gb, gx, gc)) = two_axpys_grad(a, b, &x, &c);
    close("value", v, two_axpys(a, b, &x, &c), 1e-15);
    let r: Vec<f64> = (0..3).map(|i| (a + b) * x[i] + c[i]).collect();
    let want: f64 = (0..3).map(|i| 2.0 * r[i] * x[i]).sum();
    close("∂a", ga, want, 1e-12);
    close("∂b", gb, want, 1e-12);
    for i in 0..3 {
        close("∂x", gx[i], 2.0 * r[i] * (a + b), 1e-12);
        close("∂c", gc[i], 2.0 * r[i], 1e-12);
    }
    let (v32, (ga32, ..)) = two_axpys_grad(
        a as f32,
        b as f32,
        &[0.5f32, -1.5, 2.0],
        &[0.1f32, 0.2, -0.3],
    );
    close("f32 value", v32 as f64, v, 1e-5);
    close("f32 ∂a", ga32 as f64, want, 1e-5);
}

/// One explicit Euler step of a harmonic oscillator, state (x, v) in place.
#[differentiate]
fn euler_step(dt: f64, k: f64, s: &mut [f64; 2]) {
    let v = s[1];
    s[1] -= dt * k * s[0];
    s[0] += dt * v;
}

/// Energy after n steps from (x0, 0).
#[differentiate]
fn energy_after(x0: f64, k: f64, n: usize) -> f64 {
    let mut s = [x0, 0.0];
    for _ in 0..n {
        euler_step(0.1, k, &mut s);
    }
    0.5 * s[1] * s[1] + 0.5 * k * s[0] * s[0]
}

#[test]
fn a_step_in_place_called_in_a_loop() {
    let (x0, k) = (0.8, 2.5);
    let (v, (gx, gk)) = energy_after_grad(x0, k, 20);
    close("value", v, energy_after(x0, k, 20), 1e-15);
    // The energy is quadratic in x0: E(x0) = E(1)·x0², ∂x0 = 2E/x0.
    close("∂x0", gx, 2.0 * v / x0, 1e-12);
    fd("∂k", |k| energy_after(x0, k, 20), k, gk);
    fd("∂x0 fd", |x0| energy_after(x0, k, 20), x0, gx);
}

/// out ← tanh(x) elementwise, into an ndarray buffer.
#[differentiate]
fn tanh_into(x: &Array1<f64>, out: &mut Array1<f64>) {
    *out = x.mapv(f64::tanh);
}

/// Σ tanh(x)·w: ∂x = w (1 − tanh²x), ∂w = tanh x.
#[differentiate]
fn tanh_dot(x: &Array1<f64>, w: &Array1<f64>) -> f64 {
    let mut h = Array1::zeros(x.len());
    tanh_into(x, &mut h);
    h.dot(w)
}

#[test]
fn an_ndarray_buffer() {
    let x = vector(5, 0.3);
    let w = vector(5, 1.7);
    let (v, (gx, gw)) = tanh_dot_grad(&x, &w);
    close("value", v, tanh_dot(&x, &w), 1e-15);
    for i in 0..5 {
        let t = x[i].tanh();
        close("∂x", gx[i], w[i] * (1.0 - t * t), 1e-12);
        close("∂w", gw[i], t, 1e-12);
    }
}

/// Fills, copies and updates through iter_mut in a buffer.
#[differentiate]
fn smooth_into(x: &[f64], out: &mut Vec<f64>) {
    out.fill(0.0);
    for i in 1..x.len() - 1 {
        out[i] = 0.25 * x[i - 1] + 0.5 * x[i] + 0.25 * x[i + 1];
    }
    for o in out.iter_mut() {
        *o = *o * *o;
    }
}

#[differentiate]
fn smoothed_sum(x: &[f64]) -> f64 {
    let mut buf = vec![1.0; x.len()];
    smooth_into(x, &mut buf);
    buf.iter().sum()
}

#[test]
fn fill_and_iter_mut_in_a_buffer() {
    let x = data(7, 0.4);
    let (v, gx) = smoothed_sum_grad(&x);
    close("value", v, smoothed_sum(&x), 1e-15);
    fd_vec("∂x", smoothed_sum, &x, &gx);
}

/// relu(x) into `out`.
#[differentiate]
fn relu_into(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = v.max(0.0);
    }
}

/// Two layers into the caller's buffer: the first through a scratch `Vec`, the second passing
/// `out` on to another helper as it is (the `&mut` lent again).
#[differentiate]
fn two_layers_into(a: &[f64], b: &[f64], x: &[f64], out: &mut [f64]) {
    let mut h = vec![0.0; a.len() / x.len()];
    matvec_into(a, x, &mut h);
    let mut r = vec![0.0; h.len()];
    relu_into(&h, &mut r);
    matvec_into(b, &r, out);
}

/// Σ out² of the two layers.
#[differentiate]
fn two_layer_loss(a: &[f64], b: &[f64], x: &[f64]) -> f64 {
    let mut out = vec![0.0; 2];
    two_layers_into(a, b, x, &mut out);
    out[0] * out[0] + out[1] * out[1]
}

fn two_layer_args() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let a = vec![0.5, -0.2, 0.3, 0.8, -0.6, 0.1];
    let b = vec![1.0, -0.5, 0.25, 0.3, 0.7, -0.9];
    (a, b, vec![1.5, 0.7])
}

#[test]
fn a_buffer_passed_on_to_another_helper() {
    let (a, b, x) = two_layer_args();
    let (v, (ga, gb, gx)) = two_layer_loss_grad(&a, &b, &x);
    close("value", v, two_layer_loss(&a, &b, &x), 1e-15);
    // Away from the kink of relu (no hidden pre-activation is 0).
    fd_vec("∂a", |a| two_layer_loss(a, &b, &x), &a, &ga);
    fd_vec("∂b", |b| two_layer_loss(&a, b, &x), &b, &gb);
    fd_vec("∂x", |x| two_layer_loss(&a, &b, x), &x, &gx);
}

#[test]
fn forward_mode_through_buffers() {
    let (a, b, x) = two_layer_args();
    forward("two_layer_loss").check(
        &x,
        |x| two_layer_loss(&a, &b, x),
        |x, v| two_layer_loss_jvp(&a, &b, x, &vec![0.0; 6], &vec![0.0; 6], v),
        |x, w| {
            let (y, pb) = two_layer_loss_vjp(&a, &b, x);
            (y, pb(w).2)
        },
    );
    forward("energy_after").check(
        &(0.8, 2.5),
        |p| energy_after(p.0, p.1, 12),
        |p, v| energy_after_jvp(p.0, p.1, 12, v.0, v.1),
        |p, w| {
            let (y, pb) = energy_after_vjp(p.0, p.1, 12);
            (y, pb(w))
        },
    );
}

#[differentiate]
fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}

/// Scales the buffer to unit length, reading it through another differentiated function.
#[differentiate]
fn normalize_into(out: &mut [f64]) {
    let n = norm(&*out);
    for o in out.iter_mut() {
        *o /= n;
    }
}

/// w·(x/‖x‖): ∂x = (w − (w·u) u)/‖x‖ with u = x/‖x‖.
#[differentiate]
fn cosine_to(x: &[f64], w: &[f64]) -> f64 {
    let mut u = x.to_vec();
    normalize_into(&mut u);
    u.iter().zip(w).map(|(a, b)| a * b).sum()
}

#[test]
fn a_buffer_read_by_another_function() {
    let x = [0.3, -1.2, 0.8];
    let w = [1.0, 0.5, -0.25];
    let (v, (gx, gw)) = cosine_to_grad(&x, &w);
    close("value", v, cosine_to(&x, &w), 1e-15);
    let n = norm(&x);
    let u: Vec<f64> = x.iter().map(|a| a / n).collect();
    let wu: f64 = u.iter().zip(&w).map(|(a, b)| a * b).sum();
    for i in 0..3 {
        close("∂x", gx[i], (w[i] - wu * u[i]) / n, 1e-12);
        close("∂w", gw[i], u[i], 1e-12);
    }
}

/// A 1-D Kalman filter's predict and update, in place on two buffers, with an early `return`.
#[differentiate]
fn kalman_step(q: f64, r: f64, z: f64, mean: &mut [f64; 1], var: &mut [f64; 1]) {
    let p = var[0] + q;
    if p <= 0.0 {
        return;
    }
    let k = p / (p + r);
    mean[0] += k * (z - mean[0]);
    var[0] = (1.0 - k) * p;
}

/// The innovations' negative log-likelihood, the state kept in two arrays the step updates.
#[differentiate]
fn kalman_nll(q: f64, r: f64, zs: &[f64]) -> f64 {
    let mut mean = [0.0];
    let mut var = [1.0];
    let mut nll = 0.0;
    for &z in zs {
        let s = var[0] + q + r;
        let e = z - mean[0];
        nll += 0.5 * (s.ln() + e * e / s);
        kalman_step(q, r, z, &mut mean, &mut var);
    }
    nll
}

#[test]
fn two_buffers_of_one_helper_in_a_filter() {
    let zs = [0.3, 0.1, -0.4, 0.8, 0.5];
    let (q, r) = (0.2, 0.5);
    let (v, (gq, gr, _)) = kalman_nll_grad(q, r, &zs);
    close("value", v, kalman_nll(q, r, &zs), 1e-15);
    fd("∂q", |q| kalman_nll(q, r, &zs), q, gq);
    fd("∂r", |r| kalman_nll(q, r, &zs), r, gr);
}

/// An RNN cell updating its hidden state in place: h ← tanh(W h + u x), reading the old state
/// from a copy.
#[differentiate]
fn rnn_cell(w: &[f64], u: &[f64], x: f64, h: &mut Vec<f64>) {
    let n = h.len();
    let old = h.clone();
    for i in 0..n {
        let mut s = u[i] * x;
        for j in 0..n {
            s += w[i * n + j] * old[j];
        }
        h[i] = s.tanh();
    }
}

#[differentiate]
fn rnn_loss(w: &[f64], u: &[f64], xs: &[f64]) -> f64 {
    let mut h = vec![0.0; u.len()];
    for &x in xs.iter() {
        rnn_cell(w, u, x, &mut h);
    }
    h.iter().map(|v| v * v).sum()
}

#[test]
fn a_recurrent_cell_updating_its_state_in_place() {
    let w = [0.1, -0.3, 0.5, 0.2];
    let u = [0.7, -0.4];
    let xs = [1.0, 0.5, -0.3];
    let (v, (gw, gu, gx)) = rnn_loss_grad(&w, &u, &xs);
    close("value", v, rnn_loss(&w, &u, &xs), 1e-15);
    fd_vec("∂w", |w| rnn_loss(w, &u, &xs), &w, &gw);
    fd_vec("∂u", |u| rnn_loss(&w, u, &xs), &u, &gu);
    fd_vec("∂xs", |xs| rnn_loss(&w, &u, xs), &xs, &gx);
}

trait Layer {
    fn forward_into(&self, x: &[f64], out: &mut [f64]);
}

#[derive(Clone, Differentiable)]
struct Scale {
    s: Vec<f64>,
}

#[differentiate]
impl Layer for Scale {
    fn forward_into(&self, x: &[f64], out: &mut [f64]) {
        for i in 0..x.len() {
            out[i] = self.s[i] * x[i];
        }
    }
}

/// Σ (sᵢ xᵢ)²: ∂s = 2 s x², ∂x = 2 s² x.
#[differentiate]
fn scaled_energy(l: &Scale, x: &[f64]) -> f64 {
    let mut y = vec![0.0; x.len()];
    l.forward_into(x, &mut y);
    y.iter().map(|v| v * v).sum()
}

#[test]
fn a_trait_method_writing_into_a_buffer() {
    let l = Scale {
        s: vec![1.0, 2.0, -0.5],
    };
    let x = [0.5, 0.25, 1.5];
    let (v, (gl, gx)) = scaled_energy_grad(&l, &x);
    close("value", v, scaled_energy(&l, &x), 1e-15);
    for i in 0..3 {
        close("∂s", gl.s[i], 2.0 * l.s[i] * x[i] * x[i], 1e-12);
        close("∂x", gx[i], 2.0 * l.s[i] * l.s[i] * x[i], 1e-12);
    }
}

#[derive(Clone, Differentiable)]
struct Body {
    x: f64,
    v: f64,
}

/// One symplectic Euler step of independent springs, in place on a slice of structs.
#[differentiate]
fn spring_step(bodies: &mut [Body], k: f64, dt: f64) {
    for b in bodies.iter_mut() {
        b.v -= dt * k * b.x;
        b.x += dt * b.v;
    }
}

/// The springs' energy after 10 steps from rest at `x0`.
#[differentiate]
fn springs_energy(x0: &[f64], k: f64) -> f64 {
    let mut bodies: Vec<Body> = x0.iter().map(|&x| Body { x, v: 0.0 }).collect();
    for _ in 0..10 {
        spring_step(&mut bodies, k, 0.1);
    }
    bodies
        .iter()
        .map(|b| 0.5 * b.v * b.v + 0.5 * k * b.x * b.x)
        .sum()
}

#[test]
fn a_step_in_place_on_a_slice_of_structs() {
    let x0 = [0.5, -0.3];
    let k = 2.0;
    let (v, (gx, gk)) = springs_energy_grad(&x0, k);
    close("value", v, springs_energy(&x0, k), 1e-15);
    // The bodies are independent and the energy quadratic in x0: E = c·‖x0‖², ∂x0 = 2c·x0.
    let c = v / (x0[0] * x0[0] + x0[1] * x0[1]);
    close("∂x0", gx[0], 2.0 * c * x0[0], 1e-12);
    close("∂x1", gx[1], 2.0 * c * x0[1], 1e-12);
    fd("∂k", |k| springs_energy(&x0, k), k, gk);
}

/// The outer product x xᵀ into a grid, and points on the unit circle into a `Vec` of pairs.
#[differentiate]
fn outer_into(x: &[f64], g: &mut Vec<Vec<f64>>) {
    for i in 0..g.len() {
        for j in 0..g[i].len() {
            g[i][j] = x[i] * x[j];
        }
    }
}

#[differentiate]
fn circle_into(x: &[f64], p: &mut [[f64; 2]]) {
    for i in 0..p.len() {
        p[i] = [x[i].cos(), x[i].sin()];
    }
}

/// g₀₁ + g₁₁ + p₀,ₓ·p₁,ᵧ = x₀x₁ + x₁² + cos x₀ · sin x₁:
/// ∂x₀ = x₁ − sin x₀ sin x₁, ∂x₁ = x₀ + 2x₁ + cos x₀ cos x₁.
#[differentiate]
fn nested_buffers(x: &[f64]) -> f64 {
    let mut g = vec![vec![0.0; 2]; 2];
    outer_into(x, &mut g);
    let mut p = vec![[0.0; 2]; 2];
    circle_into(x, &mut p);
    g[0][1] + g[1][1] + p[0][0] * p[1][1]
}

#[test]
fn buffers_of_rows() {
    let x = [0.3, 0.7];
    let (v, gx) = nested_buffers_grad(&x);
    close("value", v, nested_buffers(&x), 1e-15);
    close("∂x0", gx[0], x[1] - x[0].sin() * x[1].sin(), 1e-12);
    close(
        "∂x1",
        gx[1],
        x[0] + 2.0 * x[1] + x[0].cos() * x[1].cos(),
        1e-12,
    );
}

#[differentiate]
fn total(v: &[f64]) -> f64 {
    v.iter().sum()
}

/// A `&mut` parameter filled by a helper through a local copy, then read by another function:
/// 2·(2·x₀²), ∂x₀ = 8·x₀; the buffer's old contents are overwritten (∂ = 0).
#[differentiate]
fn fill_scratch(x: &[f64], scratch: &mut Vec<f64>) -> f64 {
    let mut b = scratch.to_vec();
    fill_squares(x[0], &mut b);
    scratch.copy_from_slice(&b);
    total(&scratch[..]) + total(&*scratch)
}

#[differentiate]
fn fill_squares(x: f64, out: &mut [f64]) {
    for o in out.iter_mut() {
        *o = x * x;
    }
}

#[test]
fn a_mut_parameter_filled_through_a_local_copy() {
    let mut s = vec![3.0, -1.0];
    let (v, (gx, gs)) = fill_scratch_grad(&[0.5], &mut s);
    close("value", v, 1.0, 1e-15);
    close("∂x0", gx[0], 4.0, 1e-15);
    close_all("∂scratch", &gs, &[0.0, 0.0]);
    close_all("scratch written", &s, &[0.25, 0.25]);
}

/// Cubes into a buffer, with second-order items.
#[differentiate(hessian)]
fn cubes_into(x: &[f64], out: &mut [f64]) {
    for i in 0..out.len() {
        out[i] = x[i] * x[i] * x[i];
    }
}

/// Σ xᵢ³ through the buffer: g = 3x², H = diag(6x).
#[differentiate(hessian)]
fn sum_of_cubes(x: &[f64]) -> f64 {
    let mut y = vec![0.0; x.len()];
    cubes_into(x, &mut y);
    y.iter().sum()
}

#[test]
fn second_order_through_a_buffer() {
    let x = vec![0.5, -1.0, 2.0];
    let dir = vec![1.0, 0.5, -1.0];
    let (v, g, hv) = sum_of_cubes_hvp(&x, &dir);
    close("value", v, sum_of_cubes(&x), 1e-15);
    for i in 0..3 {
        close("g", g[i], 3.0 * x[i] * x[i], 1e-12);
        close("Hv", hv[i], 6.0 * x[i] * dir[i], 1e-12);
    }
}
