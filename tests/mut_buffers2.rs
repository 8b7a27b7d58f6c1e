//! Helpers writing into their caller's `&mut` buffers, in the forms beyond those of
//! `tests/mut_buffers.rs`: a `&mut [T]` helper lent a fixed-size array; two buffers of rows or
//! structs in one helper, and such a buffer beside a returned value, in loops; a helper
//! returning a value that writes through a `&mut f64`; loops calling a helper under
//! checkpointing; a loss that records what it computed for its caller in a `&mut` parameter
//! left out of `wrt` (a counter, a struct of statistics, a log). Reverse mode, forward mode
//! and Hessian-vector products.
//!
//! Each gradient is checked against its analytic form and against central finite differences,
//! and each value against the plain function's.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)] // written as users write them

use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// A `&mut [T]` helper lent a fixed-size array.
// ---------------------------------------------------------------------------------------------

/// out ← 2·x² elementwise, over the first `out.len()` entries of `x`.
#[differentiate(hessian)]
fn double_squares_into(x: &[f64], out: &mut [f64]) {
    for i in 0..out.len() {
        out[i] = x[i] * x[i];
    }
    for o in out.iter_mut() {
        *o *= 2.0;
    }
}

/// y = 2x² into an array, z = 2y² = 8x⁴ into a `Vec` from the array read as `&y`, and the array
/// written again in a loop: f = Σ 2cᵢxᵢ² + 8x₁⁴ with c = (1, 2, 3);
/// ∂xᵢ = 4cᵢxᵢ + [i = 1]·32x₁³, H = diag(4cᵢ) + [1, 1]·96x₁².
#[differentiate(hessian)]
fn squares_through_an_array(x: &[f64]) -> f64 {
    let mut y = [0.0; 3];
    double_squares_into(x, &mut y);
    let mut z = vec![0.0; 3];
    double_squares_into(&y, &mut z);
    for _ in 0..2 {
        double_squares_into(x, &mut y);
    }
    y[0] + 2.0 * y[1] + 3.0 * y[2] + z[1]
}

fn squares_gradient(x: &[f64]) -> Vec<f64> {
    (0..3)
        .map(|i| 4.0 * (i + 1) as f64 * x[i] + if i == 1 { 32.0 * x[1].powi(3) } else { 0.0 })
        .collect()
}

#[test]
fn a_slice_helper_lent_a_fixed_array() {
    let x = [0.5, -1.0, 2.0];
    let (v, g) = squares_through_an_array_grad(&x);
    close("value", v, squares_through_an_array(&x), 1e-15);
    close_all("∂x", &g, &squares_gradient(&x));
    fd_vec("∂x fd", squares_through_an_array, &x, &g);
}

#[test]
fn forward_and_second_order_through_a_fixed_array() {
    let x = vec![0.5, -1.0, 2.0];
    let pairs = forward("squares_through_an_array").check(
        &x,
        |x| squares_through_an_array(x),
        |x, v| squares_through_an_array_jvp(x, v),
        |x, w| {
            let (y, pb) = squares_through_an_array_vjp(x);
            (y, pb(w))
        },
    );
    let g = squares_gradient(&x);
    for (v, jv) in pairs {
        let want: f64 = (0..3).map(|i| g[i] * v[i]).sum();
        close("J·v", jv, want, 1e-12);
    }
    let dir = vec![1.0, 0.5, -1.0];
    let (v, g, hv) = squares_through_an_array_hvp(&x, &dir);
    close("value", v, squares_through_an_array(&x), 1e-15);
    close_all("g", &g, &squares_gradient(&x));
    for i in 0..3 {
        let h = 4.0 * (i + 1) as f64 + if i == 1 { 96.0 * x[1] * x[1] } else { 0.0 };
        close("Hv", hv[i], h * dir[i], 1e-12);
    }
}

/// Cubes a buffer in place: what it held is what it reads.
#[differentiate]
fn cube_in_place(out: &mut [f64]) {
    for o in out.iter_mut() {
        *o = *o * *o * *o;
    }
}

/// The parameter array copied into a local and cubed in place: f = Σ xᵢ³, ∂xᵢ = 3xᵢ².
#[differentiate]
fn sum_of_cubes_of_array(x: [f64; 2]) -> f64 {
    let mut y = x;
    cube_in_place(&mut y);
    y[0] + y[1]
}

/// The head of `x` (as long as `head`) as sines into one buffer, the rest as exponentials
/// pushed onto a `Vec`.
#[differentiate]
fn split_into(x: &[f64], head: &mut [f64], tail: &mut Vec<f64>) {
    for i in 0..head.len() {
        head[i] = x[i].sin();
    }
    tail.clear();
    for i in head.len()..x.len() {
        tail.push(x[i].exp());
    }
}

/// An array and a `Vec` lent to one call: f = sin x₀ · e^{x₂} + sin x₁;
/// ∂x₀ = cos x₀ e^{x₂}, ∂x₁ = cos x₁, ∂x₂ = sin x₀ e^{x₂}.
#[differentiate]
fn split_energy(x: &[f64]) -> f64 {
    let mut head = [0.0; 2];
    let mut tail = Vec::new();
    split_into(x, &mut head, &mut tail);
    head[0] * tail[0] + head[1]
}

#[test]
fn an_array_beside_a_vec_and_an_array_parameter() {
    let x = [0.75, -1.25];
    let (v, g) = sum_of_cubes_of_array_grad(x);
    close("value", v, sum_of_cubes_of_array(x), 1e-15);
    close("∂x0", g[0], 3.0 * x[0] * x[0], 1e-12);
    close("∂x1", g[1], 3.0 * x[1] * x[1], 1e-12);
    fd_vec("∂x fd", |x| sum_of_cubes_of_array([x[0], x[1]]), &x, &g);

    let x = [0.3, -0.7, 0.4];
    let (v, g) = split_energy_grad(&x);
    close("value", v, split_energy(&x), 1e-15);
    close("∂x0", g[0], x[0].cos() * x[2].exp(), 1e-12);
    close("∂x1", g[1], x[1].cos(), 1e-12);
    close("∂x2", g[2], x[0].sin() * x[2].exp(), 1e-12);
    fd_vec("∂x fd", split_energy, &x, &g);
}

/// y ← a·x + y over a generic float.
#[differentiate]
fn axpy_into<T: num_traits::Float>(a: T, x: &[T], y: &mut [T]) {
    for i in 0..y.len() {
        y[i] = a * x[i] + y[i];
    }
}

#[derive(Clone, Differentiable)]
struct Gain {
    g: Vec<f64>,
}

impl Gain {
    /// out ← g ⊙ x.
    #[differentiate]
    fn apply_into(&self, x: &[f64], out: &mut [f64]) {
        for i in 0..out.len() {
            out[i] = self.g[i] * x[i];
        }
    }
}

/// A generic helper and a method, each lent an array: y = g ⊙ x, then y ← a·x + y twice, so
/// y = (g + 2a) ⊙ x and f = Σ yᵢ²: ∂a = 4 Σ yᵢxᵢ, ∂gᵢ = 2yᵢxᵢ, ∂xᵢ = 2yᵢ(gᵢ + 2a).
#[differentiate]
fn gain_then_axpy(gain: &Gain, a: f64, x: &[f64]) -> f64 {
    let mut y = [0.0; 2];
    gain.apply_into(x, &mut y);
    axpy_into(a, x, &mut y);
    axpy_into(a, x, &mut y);
    y[0] * y[0] + y[1] * y[1]
}

#[test]
fn a_generic_helper_and_a_method_lent_an_array() {
    let gain = Gain { g: vec![0.5, -2.0] };
    let (a, x) = (0.75, [1.5, -0.5]);
    let (v, (gg, ga, gx)) = gain_then_axpy_grad(&gain, a, &x);
    close("value", v, gain_then_axpy(&gain, a, &x), 1e-15);
    let y: Vec<f64> = (0..2).map(|i| (gain.g[i] + 2.0 * a) * x[i]).collect();
    close("∂a", ga, 4.0 * (y[0] * x[0] + y[1] * x[1]), 1e-12);
    close_all("∂g", &gg.g, &[2.0 * y[0] * x[0], 2.0 * y[1] * x[1]]);
    let c: Vec<f64> = (0..2).map(|i| gain.g[i] + 2.0 * a).collect();
    close_all("∂x", &gx, &[2.0 * y[0] * c[0], 2.0 * y[1] * c[1]]);
    fd("∂a fd", |a| gain_then_axpy(&gain, a, &x), a, ga);
    fd_vec(
        "∂g fd",
        |g| gain_then_axpy(&Gain { g: g.to_vec() }, a, &x),
        &gain.g,
        &gg.g,
    );
}

// ---------------------------------------------------------------------------------------------
// Buffers of rows and of structs: two in one helper, or one beside a returned value, in loops.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Differentiable)]
struct Body {
    x: f64,
    v: f64,
}

/// Moves the bodies of `a` by their velocities and slows those of `b` by their positions.
#[differentiate(hessian)]
fn drift_and_drag(k: f64, a: &mut [Body], b: &mut Vec<Body>) {
    for i in 0..a.len() {
        a[i].x += k * a[i].v;
        b[i].v -= k * b[i].x;
    }
}

/// Declares the function of three steps of [`drift_and_drag`] with the options given:
/// a.x = x₀ + 3k·x₁, b.v = x₀ − 3k·x₂, f = a.x·b.v;
/// ∂x₀ = b.v + a.x, ∂x₁ = 3k·b.v, ∂x₂ = −3k·a.x, ∂k = 3x₁·b.v − 3x₂·a.x.
macro_rules! bodies_after_steps {
    ($name:ident, [$($opt:tt)*]) => {
        #[differentiate($($opt)*)]
        fn $name(x: &[f64], k: f64) -> f64 {
            let mut a = vec![Body { x: x[0], v: x[1] }];
            let mut b = vec![Body { x: x[2], v: x[0] }];
            for _ in 0..3 {
                drift_and_drag(k, &mut a, &mut b);
            }
            a[0].x * b[0].v
        }
    };
}

bodies_after_steps!(bodies_after_steps, [hessian]);
bodies_after_steps!(bodies_after_steps_ck, [checkpoint(snapshots = 1)]);

fn bodies_gradient(x: &[f64], k: f64) -> (Vec<f64>, f64) {
    let (ax, bv) = (x[0] + 3.0 * k * x[1], x[0] - 3.0 * k * x[2]);
    (
        vec![bv + ax, 3.0 * k * bv, -3.0 * k * ax],
        3.0 * x[1] * bv - 3.0 * x[2] * ax,
    )
}

#[test]
fn two_buffers_of_structs_in_a_loop() {
    let (x, k) = ([0.5, -1.0, 2.0], 0.3);
    let (v, (gx, gk)) = bodies_after_steps_grad(&x, k);
    close("value", v, bodies_after_steps(&x, k), 1e-15);
    let (wx, wk) = bodies_gradient(&x, k);
    close_all("∂x", &gx, &wx);
    close("∂k", gk, wk, 1e-12);
    fd_vec("∂x fd", |x| bodies_after_steps(x, k), &x, &gx);
    fd("∂k fd", |k| bodies_after_steps(&x, k), k, gk);
    let (v, (gx, gk)) = bodies_after_steps_ck_grad(&x, k);
    close("checkpointed value", v, bodies_after_steps(&x, k), 1e-15);
    close_all("checkpointed ∂x", &gx, &wx);
    close("checkpointed ∂k", gk, wk, 1e-12);
}

#[test]
fn forward_and_second_order_through_two_buffers_of_structs() {
    let x = vec![0.5, -1.0, 2.0];
    let k = 0.3;
    let pairs = forward("bodies_after_steps").check(
        &x,
        |x| bodies_after_steps(x, k),
        |x, v| bodies_after_steps_jvp(x, k, v, 0.0),
        |x, w| {
            let (y, pb) = bodies_after_steps_vjp(x, k);
            (y, pb(w).0)
        },
    );
    let (gx, _) = bodies_gradient(&x, k);
    for (v, jv) in pairs {
        let want: f64 = (0..3).map(|i| gx[i] * v[i]).sum();
        close("J·v", jv, want, 1e-12);
    }
    // f = (x₀ + c x₁)(x₀ − c x₂) with c = 3k: along (d, 0), H·(d, 0) in x is
    // (2d₀ + c d₁ − c d₂, c d₀ − c² d₂, −c d₀ − c² d₁) with d = (1, 0.5, −1).
    let d = vec![1.0, 0.5, -1.0];
    let (_, _, hv) = bodies_after_steps_hvp(&x, k, &d, 0.0);
    let c = 3.0 * k;
    close("Hv0", hv.0[0], 2.0 * d[0] + c * d[1] - c * d[2], 1e-12);
    close("Hv1", hv.0[1], c * d[0] - c * c * d[2], 1e-12);
    close("Hv2", hv.0[2], -c * d[0] - c * c * d[1], 1e-12);
}

/// Adds the outer product x xᵀ to a grid and returns x₀x₁.
#[differentiate]
fn add_outer(x: &[f64], g: &mut Vec<Vec<f64>>) -> f64 {
    for i in 0..g.len() {
        for j in 0..g[i].len() {
            g[i][j] += x[i] * x[j];
        }
    }
    x[0] * x[1]
}

/// Three calls: g₀₁ = 3x₀x₁ and s = 3x₀x₁, f = 9x₀²x₁²: ∂x₀ = 18x₀x₁², ∂x₁ = 18x₀²x₁.
#[differentiate]
fn outer_products_summed(x: &[f64]) -> f64 {
    let mut g = vec![vec![0.0; 2]; 2];
    let mut s = 0.0;
    for _ in 0..3 {
        s += add_outer(x, &mut g);
    }
    g[0][1] * s
}

#[test]
fn a_buffer_of_rows_beside_a_returned_value_in_a_loop() {
    let x = vec![0.5, -1.5];
    let (v, g) = outer_products_summed_grad(&x);
    close("value", v, outer_products_summed(&x), 1e-15);
    close("∂x0", g[0], 18.0 * x[0] * x[1] * x[1], 1e-12);
    close("∂x1", g[1], 18.0 * x[0] * x[0] * x[1], 1e-12);
    fd_vec("∂x fd", outer_products_summed, &x, &g);
    forward("outer_products_summed").check(
        &x,
        |x| outer_products_summed(x),
        |x, v| outer_products_summed_jvp(x, v),
        |x, w| {
            let (y, pb) = outer_products_summed_vjp(x);
            (y, pb(w))
        },
    );
}

// ---------------------------------------------------------------------------------------------
// A helper returning a value that writes through a `&mut f64`.
// ---------------------------------------------------------------------------------------------

/// Adds x₀x₁ to `acc` and returns x₁².
#[differentiate(hessian)]
fn accumulate_product(x: &[f64], acc: &mut f64) -> f64 {
    *acc += x[0] * x[1];
    x[1] * x[1]
}

/// acc = 1 + 2x₀x₁, r = x₁²: f = (1 + 2x₀x₁)·x₁²; ∂x₀ = 2x₁³, ∂x₁ = 2x₁ + 6x₀x₁²;
/// H = [[0, 6x₁²], [6x₁², 2 + 12x₀x₁]].
#[differentiate(hessian)]
fn accumulated_twice(x: &[f64]) -> f64 {
    let mut acc = 1.0;
    let r = accumulate_product(x, &mut acc);
    accumulate_product(x, &mut acc);
    acc * r
}

#[test]
fn a_helper_returning_a_value_writes_through_a_float() {
    let x = vec![0.5, -1.5];
    let (v, g) = accumulated_twice_grad(&x);
    close("value", v, accumulated_twice(&x), 1e-15);
    close("∂x0", g[0], 2.0 * x[1].powi(3), 1e-12);
    close("∂x1", g[1], 2.0 * x[1] + 6.0 * x[0] * x[1] * x[1], 1e-12);
    fd_vec("∂x fd", accumulated_twice, &x, &g);
    forward("accumulated_twice").check(
        &x,
        |x| accumulated_twice(x),
        |x, v| accumulated_twice_jvp(x, v),
        |x, w| {
            let (y, pb) = accumulated_twice_vjp(x);
            (y, pb(w))
        },
    );
    let dir = vec![1.0, -0.5];
    let (_, _, hv) = accumulated_twice_hvp(&x, &dir);
    let h01 = 6.0 * x[1] * x[1];
    close("Hv0", hv[0], h01 * dir[1], 1e-12);
    close(
        "Hv1",
        hv[1],
        h01 * dir[0] + (2.0 + 12.0 * x[0] * x[1]) * dir[1],
        1e-12,
    );
    // The helpers as written still write into the caller's buffers.
    let mut acc = 0.5;
    close(
        "helper value",
        accumulate_product(&x, &mut acc),
        x[1] * x[1],
        1e-15,
    );
    close("helper float", acc, 0.5 + x[0] * x[1], 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Checkpointed loops calling a helper that writes into a buffer.
// ---------------------------------------------------------------------------------------------

/// One explicit Euler step of a harmonic oscillator, state (x, v) in place.
#[differentiate]
fn oscillator_step(dt: f64, k: f64, s: &mut [f64]) {
    let x = s[0];
    s[0] += dt * s[1];
    s[1] -= dt * k * x;
}

/// The energy after n steps from (x₀, 0), the state in a `Vec` and in an array, recorded and
/// checkpointed: E = c·x₀² with c depending on k only, so ∂x₀ = 2E/x₀.
macro_rules! oscillator {
    ($name:ident, [$($opt:tt)*], $x0:ident, $($init:tt)*) => {
        #[differentiate($($opt)*)]
        fn $name($x0: f64, k: f64, n: usize) -> f64 {
            let mut s = $($init)*;
            for _ in 0..n {
                oscillator_step(0.1, k, &mut s);
            }
            0.5 * (k * s[0] * s[0] + s[1] * s[1])
        }
    };
}

oscillator!(energy_vec, [], x0, vec![x0, 0.0]);
oscillator!(
    energy_vec_ck,
    [checkpoint(snapshots = 2)],
    x0,
    vec![x0, 0.0]
);
oscillator!(energy_array, [], x0, [x0, 0.0]);
oscillator!(energy_array_ck, [checkpoint(snapshots = 2)], x0, [x0, 0.0]);

#[test]
fn checkpointed_loops_calling_a_buffer_helper() {
    let (x0, k) = (0.8, 2.5);
    for n in [0, 1, 2, 7, 40] {
        let recorded = energy_vec_grad(x0, k, n);
        for (what, (v, (gx, gk))) in [
            ("vec, checkpointed", energy_vec_ck_grad(x0, k, n)),
            ("array", energy_array_grad(x0, k, n)),
            ("array, checkpointed", energy_array_ck_grad(x0, k, n)),
        ] {
            close(what, v, energy_vec(x0, k, n), 1e-15);
            close(what, gx, recorded.1.0, 1e-12);
            close(what, gk, recorded.1.1, 1e-12);
            close(what, gx, 2.0 * v / x0, 1e-12);
            fd("∂x0", |x0| energy_array_ck(x0, k, n), x0, gx);
            fd("∂k", |k| energy_array_ck(x0, k, n), k, gk);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A loss that records what it computed in a `&mut` parameter left out of `wrt`: a counter of
// calls, a struct of statistics written by field, a log written by its own method. These
// statements run as written, once per call of each generated item, and the gradient is the
// loss's alone.
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Clone, PartialEq)]
pub struct FitStats {
    pub calls: usize,
    pub points: usize,
    pub last: f64,
    pub worst: f64,
    pub hist: [usize; 3],
}

/// A log of residuals, written by its own `&mut self` method.
#[derive(Debug, Default)]
pub struct ResidualLog {
    pub seen: Vec<f64>,
}

impl ResidualLog {
    pub fn record(&mut self, r: f64) {
        self.seen.push(r);
    }
}

/// Least squares of `a·x + b` against `y`, recording into `stats`, `evals` and `log`.
#[differentiate(wrt(a, b), hessian)]
fn recorded_fit(
    a: f64,
    b: f64,
    xs: &[f64],
    ys: &[f64],
    stats: &mut FitStats,
    evals: &mut usize,
    log: &mut ResidualLog,
) -> f64 {
    stats.calls += 1;
    *evals += 1;
    let mut total = 0.0;
    for i in 0..xs.len() {
        let r = a * xs[i] + b - ys[i];
        stats.points += 1;
        if r.abs() > stats_floor() {
            stats.hist[2] += 1;
        } else {
            stats.hist[i % 2] += 1;
        }
        log.record(r);
        total += r * r;
    }
    let loss = total / xs.len() as f64;
    stats.last = loss;
    (*stats).worst = loss.max(0.25);
    loss
}

fn stats_floor() -> f64 {
    0.5
}

/// `recorded_fit` without the records.
fn plain_fit(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    xs.iter()
        .zip(ys)
        .map(|(x, y)| (a * x + b - y).powi(2))
        .sum::<f64>()
        / n
}

/// What one call of `recorded_fit` records, from a fresh start.
fn expected_records(a: f64, b: f64, xs: &[f64], ys: &[f64]) -> (FitStats, Vec<f64>) {
    let rs: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| a * x + b - y).collect();
    let mut hist = [0; 3];
    for (i, r) in rs.iter().enumerate() {
        hist[if r.abs() > 0.5 { 2 } else { i % 2 }] += 1;
    }
    let loss = plain_fit(a, b, xs, ys);
    let stats = FitStats {
        calls: 1,
        points: xs.len(),
        last: loss,
        worst: loss.max(0.25),
        hist,
    };
    (stats, rs)
}

#[test]
fn a_loss_records_into_mut_parameters_left_out_of_wrt() {
    let xs = data(7, 0.3);
    let ys: Vec<f64> = data(7, 1.9).iter().map(|v| 2.0 * v + 0.1).collect();
    let (a, b) = (0.8, -0.4);
    let (want, rs) = expected_records(a, b, &xs, &ys);
    let n = xs.len() as f64;
    let ga = 2.0 * rs.iter().zip(&xs).map(|(r, x)| r * x).sum::<f64>() / n;
    let gb = 2.0 * rs.iter().sum::<f64>() / n;

    // `_grad`: the records of one call, the gradient of the loss.
    let (mut stats, mut evals, mut log) = (FitStats::default(), 0, ResidualLog::default());
    let (y, g) = recorded_fit_grad(a, b, &xs, &ys, &mut stats, &mut evals, &mut log);
    close("value", y, plain_fit(a, b, &xs, &ys), TOL);
    close2("gradient", g, (ga, gb));
    fd2("gradient", |a, b| plain_fit(a, b, &xs, &ys), (a, b), g);
    assert_eq!(stats, want);
    assert_eq!(evals, 1);
    close_all("log", &log.seen, &rs);

    // `_vjp`: recorded by the forward pass, not again by the pullback.
    let (mut stats, mut evals, mut log) = (FitStats::default(), 0, ResidualLog::default());
    let (y, pullback) = recorded_fit_vjp(a, b, &xs, &ys, &mut stats, &mut evals, &mut log);
    close2("pullback of 3", pullback(3.0), (3.0 * ga, 3.0 * gb));
    close("vjp value", y, want.last, TOL);
    assert_eq!(stats, want);
    assert_eq!((evals, log.seen.len()), (1, xs.len()));

    // `_jvp` along (1, −2), and `_hvp` along (1, 0): H = (2/n)·[[Σx², Σx], [Σx, n]].
    let (mut stats, mut evals, mut log) = (FitStats::default(), 0, ResidualLog::default());
    let (y, dy) = recorded_fit_jvp(a, b, &xs, &ys, &mut stats, &mut evals, &mut log, 1.0, -2.0);
    close("jvp value", y, want.last, TOL);
    close("tangent", dy, ga - 2.0 * gb, TOL);
    assert_eq!(stats, want);
    assert_eq!((evals, log.seen.len()), (1, xs.len()));
    let (mut stats, mut evals, mut log) = (FitStats::default(), 0, ResidualLog::default());
    let (y, g, hv) = recorded_fit_hvp(a, b, &xs, &ys, &mut stats, &mut evals, &mut log, 1.0, 0.0);
    close("hvp value", y, want.last, TOL);
    close2("hvp gradient", g, (ga, gb));
    let sx2 = xs.iter().map(|x| x * x).sum::<f64>();
    close2(
        "H·e₀",
        hv,
        (2.0 * sx2 / n, 2.0 * xs.iter().sum::<f64>() / n),
    );
    assert_eq!(stats, want);
    assert_eq!((evals, log.seen.len()), (1, xs.len()));

    // Calls add up in the caller's records.
    let (mut stats, mut evals, mut log) = (FitStats::default(), 0, ResidualLog::default());
    for _ in 0..3 {
        recorded_fit_grad(a, b, &xs, &ys, &mut stats, &mut evals, &mut log);
    }
    assert_eq!((stats.calls, stats.points, evals), (3, 3 * xs.len(), 3));
}

/// Without `wrt`: a counter is an integer, so it is not differentiated, and written into.
#[differentiate]
fn square_counted(x: f64, calls: &mut u32) -> f64 {
    *calls = 1;
    x * x
}

#[test]
fn a_counter_written_through_its_reference() {
    let mut calls = 0;
    let (y, g) = square_counted_grad(1.5, &mut calls);
    assert_eq!((y, g, calls), (2.25, 3.0, 1));
}

/// Records written in nested loops, a `while` loop and before a `continue`, one naming the
/// other in its key (`format!("neg{}", *n)`): a write into one record may read another.
#[differentiate(wrt(w))]
fn tanh_sum_recorded(
    w: &[f64],
    xs: &[Vec<f64>],
    metrics: &mut std::collections::HashMap<String, f64>,
    n: &mut usize,
) -> f64 {
    let mut total = 0.0;
    for row in xs {
        let mut z = 0.0;
        for (j, &v) in row.iter().enumerate() {
            z += w[j] * v;
            *n += 1;
        }
        if z < 0.0 {
            metrics.insert(format!("neg{}", *n), z);
            continue;
        }
        total += z.tanh();
    }
    let mut passes = 0;
    while passes < 2 {
        *n += 10;
        passes += 1;
    }
    metrics.insert("total".to_string(), total);
    total
}

/// A record written on both sides of an early `return`.
#[differentiate(wrt(x))]
fn square_or_zero_counted(x: f64, n: &mut usize) -> f64 {
    if x < 0.0 {
        *n += 1;
        return 0.0;
    }
    *n += 2;
    x * x
}

#[test]
fn records_in_loops_branches_and_early_returns() {
    let w = [0.3, -0.8, 0.5];
    let xs = vec![
        vec![1.0, 0.5, 2.0],
        vec![0.2, 1.0, -0.3],
        vec![-1.0, 0.1, 0.4],
    ];
    let plain = |w: &[f64]| tanh_sum_recorded(w, &xs, &mut Default::default(), &mut 0);
    let (mut metrics, mut n) = (std::collections::HashMap::new(), 0);
    let (y, g) = tanh_sum_recorded_grad(&w, &xs, &mut metrics, &mut n);
    close("value", y, plain(&w), TOL);
    fd_vec("gradient", plain, &w, &g);
    // Rows 2 and 3 are negative: `neg6` and `neg9`, then 20 from the `while` loop.
    assert_eq!(n, 9 + 20);
    let mut keys: Vec<&String> = metrics.keys().collect();
    keys.sort();
    assert_eq!(keys, ["neg6", "neg9", "total"]);
    close("recorded total", metrics["total"], y, TOL);

    let mut n = 0;
    assert_eq!(square_or_zero_counted_grad(-1.0, &mut n), (0.0, 0.0));
    assert_eq!(square_or_zero_counted_grad(3.0, &mut n), (9.0, 6.0));
    assert_eq!(n, 3);
}

/// Records that read themselves in the statement that writes them: `stats.calls =
/// stats.calls + 1`, `*n = *n + 1`, an index computed from the record, a method given the
/// log's own length.
#[differentiate(wrt(x))]
fn cube_self_counted(x: f64, stats: &mut FitStats, n: &mut usize, log: &mut ResidualLog) -> f64 {
    stats.calls = stats.calls + 1;
    *n = *n + 1;
    stats.hist[stats.calls % 3] += 1;
    let y = x * x * x;
    log.record(log.seen.len() as f64 + y);
    y
}

#[test]
fn records_read_in_the_statements_that_write_them() {
    let (mut stats, mut n, mut log) = (FitStats::default(), 0, ResidualLog::default());
    for k in 0..4 {
        let x = 0.5 + k as f64;
        assert_eq!(
            cube_self_counted_grad(x, &mut stats, &mut n, &mut log),
            (x * x * x, 3.0 * x * x)
        );
    }
    assert_eq!((stats.calls, n, stats.hist), (4, 4, [1, 2, 1]));
    let want: Vec<f64> = (0..4)
        .map(|k| k as f64 + (0.5 + k as f64).powi(3))
        .collect();
    close_all("log", &log.seen, &want);
}
