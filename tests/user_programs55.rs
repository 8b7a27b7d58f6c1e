//! Stochastic objectives that draw their noise from a generator of their own, as Monte Carlo
//! and reparameterised losses are written: the generator is a struct without a derivative (its
//! `impl` not marked), taken `&mut` and left out of `wrt`, or made in the function, and its
//! methods fill buffers they are lent (`rng.fill_noise(&mut eps)`, `let s =
//! rng.fill_sum(&mut eps);`, a `Vec` and a fixed-size array at once), or a plain helper is
//! lent the generator and a buffer (`fill_gauss(rng, &mut eps)`), in loops too. Nothing
//! differentiated reaches such a call, so it runs as written, the generator's state moving on
//! from call to call as in the plain function. Each function is checked against its plain copy
//! (the value and the generator's state after it), its analytic gradient (stated beside it,
//! with the noise drawn again from a generator in the same state) and central finite
//! differences through `autodiff::check`. Beside them, generators and logs kept in a
//! `RefCell` (a model's field, `self.rng.borrow_mut().next_f64()`, and locals), changed through
//! their guards as in the plain function.

#![allow(clippy::needless_range_loop, clippy::ptr_arg)] // written as users write them

use autodiff::differentiate;

mod common;
use common::*;

/// A linear congruential generator, as a simulation keeps one.
#[derive(Clone, Debug, PartialEq)]
pub struct Lcg {
    state: u64,
}

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg { state: seed }
    }

    pub fn next_f64(&mut self) -> f64 {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.state >> 11) as f64) / ((1u64 << 53) as f64)
    }

    /// Uniform noise in [−½, ½) written over `out`.
    pub fn fill_noise(&mut self, out: &mut [f64]) {
        for o in out.iter_mut() {
            *o = self.next_f64() - 0.5;
        }
    }

    /// The same, giving the sum of what it wrote.
    pub fn fill_sum(&mut self, out: &mut [f64]) -> f64 {
        let mut s = 0.0;
        for o in out.iter_mut() {
            *o = self.next_f64() - 0.5;
            s += *o;
        }
        s
    }

    /// Uniform draws over two buffers of different kinds.
    pub fn fill_two(&mut self, a: &mut Vec<f64>, b: &mut [f64; 3]) {
        for o in a.iter_mut() {
            *o = self.next_f64();
        }
        for o in b.iter_mut() {
            *o = self.next_f64();
        }
    }
}

/// Standard normal draws by Box–Muller, written by a plain helper lent the generator.
pub fn fill_gauss(rng: &mut Lcg, out: &mut [f64]) {
    for o in out.iter_mut() {
        let u1 = rng.next_f64().max(1e-300);
        let u2 = rng.next_f64();
        *o = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    }
}

// ---------------------------------------------------------------------------------------------
// A reparameterised Gaussian: z = μ + exp(log σ)·ε, ε drawn by a helper lent the generator.
// ---------------------------------------------------------------------------------------------

/// `Σ_k Σ_i (μ_i + σ_i ε_ki − t_i)²` over `k` draws: `∂/∂μ_i = Σ_k 2 r_ki`, `∂/∂log σ_i = Σ_k
/// 2 r_ki σ_i ε_ki`, with `r = z − t`.
#[differentiate(wrt(mu, log_sigma))]
pub fn reparam_loss(mu: &[f64], log_sigma: &[f64], t: &[f64], draws: usize, rng: &mut Lcg) -> f64 {
    let mut eps = vec![0.0; mu.len()];
    let mut total = 0.0;
    for _ in 0..draws {
        fill_gauss(rng, &mut eps);
        for i in 0..mu.len() {
            let z = mu[i] + log_sigma[i].exp() * eps[i];
            total += (z - t[i]) * (z - t[i]);
        }
    }
    total / draws as f64
}

fn reparam_plain(mu: &[f64], log_sigma: &[f64], t: &[f64], draws: usize, rng: &mut Lcg) -> f64 {
    let mut eps = vec![0.0; mu.len()];
    let mut total = 0.0;
    for _ in 0..draws {
        fill_gauss(rng, &mut eps);
        for i in 0..mu.len() {
            let z = mu[i] + log_sigma[i].exp() * eps[i];
            total += (z - t[i]) * (z - t[i]);
        }
    }
    total / draws as f64
}

#[test]
fn reparameterised_gaussian_draws_its_noise_through_a_helper_lent_the_generator() {
    let (mu, ls, t) = (data(3, 0.2), data(3, 1.7), data(3, 4.1));
    let ls: Vec<f64> = ls.iter().map(|v| 0.3 * v).collect();
    let draws = 4;
    let mut rng = Lcg::new(17);
    let (value, (g_mu, g_ls)) = reparam_loss_grad(&mu, &ls, &t, draws, &mut rng);
    let mut plain_rng = Lcg::new(17);
    close(
        "value",
        value,
        reparam_plain(&mu, &ls, &t, draws, &mut plain_rng),
        TOL,
    );
    assert_eq!(
        rng, plain_rng,
        "the generator moves on as in the plain function"
    );
    // The analytic gradient, over the same draws.
    let mut again = Lcg::new(17);
    let mut eps = vec![0.0; 3];
    let (mut e_mu, mut e_ls) = (vec![0.0; 3], vec![0.0; 3]);
    for _ in 0..draws {
        fill_gauss(&mut again, &mut eps);
        for i in 0..3 {
            let s = ls[i].exp();
            let r = mu[i] + s * eps[i] - t[i];
            e_mu[i] += 2.0 * r / draws as f64;
            e_ls[i] += 2.0 * r * s * eps[i] / draws as f64;
        }
    }
    close_all("∂/∂μ", &g_mu, &e_mu);
    close_all("∂/∂log σ", &g_ls, &e_ls);
    fd_vec(
        "∂/∂μ",
        |m| reparam_plain(m, &ls, &t, draws, &mut Lcg::new(17)),
        &mu,
        &g_mu,
    );
    fd_vec(
        "∂/∂log σ",
        |l| reparam_plain(&mu, l, &t, draws, &mut Lcg::new(17)),
        &ls,
        &g_ls,
    );
}

// ---------------------------------------------------------------------------------------------
// The generator's own methods lent buffers: on a `&mut` parameter, on locals, results used.
// ---------------------------------------------------------------------------------------------

/// Noisy weights `w_i + 0.1 ε_i`, their squares summed: `∂/∂w_i = 2 (w_i + 0.1 ε_i)`.
#[differentiate(wrt(w))]
pub fn noisy_ridge(w: &[f64], rng: &mut Lcg) -> f64 {
    let mut noise = vec![0.0; w.len()];
    rng.fill_noise(&mut noise);
    let mut s = 0.0;
    for i in 0..w.len() {
        let z = w[i] + 0.1 * noise[i];
        s += z * z;
    }
    s
}

fn noisy_ridge_plain(w: &[f64], rng: &mut Lcg) -> f64 {
    let mut noise = vec![0.0; w.len()];
    rng.fill_noise(&mut noise);
    let mut s = 0.0;
    for i in 0..w.len() {
        let z = w[i] + 0.1 * noise[i];
        s += z * z;
    }
    s
}

#[test]
fn a_generator_parameter_fills_a_buffer_of_noise_by_its_method() {
    let w = data(4, 0.9);
    let mut rng = Lcg::new(7);
    let (value, g) = noisy_ridge_grad(&w, &mut rng);
    let mut plain_rng = Lcg::new(7);
    close("value", value, noisy_ridge_plain(&w, &mut plain_rng), TOL);
    assert_eq!(rng, plain_rng);
    let mut noise = vec![0.0; 4];
    Lcg::new(7).fill_noise(&mut noise);
    let expected: Vec<f64> = (0..4).map(|i| 2.0 * (w[i] + 0.1 * noise[i])).collect();
    close_all("∂/∂w", &g, &expected);
    fd_vec("∂/∂w", |w| noisy_ridge_plain(w, &mut Lcg::new(7)), &w, &g);
}

/// Over three rounds, alternately from the parameter's generator and a local one, `m_k` the
/// sum of the round's draws: `Σ_k Σ_i sin(w_i ε_ki) m_k`, so `∂/∂w_i = Σ_k cos(w_i ε_ki) ε_ki
/// m_k` (the local generator refills `ε` after each round, and that is what is read).
#[differentiate(wrt(w))]
pub fn alternating_draws(w: &[f64], rng: &mut Lcg) -> f64 {
    let mut local = Lcg { state: 5 };
    let mut eps = vec![0.0; w.len()];
    let mut s = 0.0;
    for k in 0..3 {
        let m = if k % 2 == 0 {
            rng.fill_sum(&mut eps)
        } else {
            local.fill_sum(&mut eps)
        };
        local.fill_noise(&mut eps);
        for (wi, e) in w.iter().zip(eps.iter()) {
            s += (wi * e).sin() * m;
        }
    }
    s
}

fn alternating_plain(w: &[f64], rng: &mut Lcg) -> f64 {
    let mut local = Lcg { state: 5 };
    let mut eps = vec![0.0; w.len()];
    let mut s = 0.0;
    for k in 0..3 {
        let m = if k % 2 == 0 {
            rng.fill_sum(&mut eps)
        } else {
            local.fill_sum(&mut eps)
        };
        local.fill_noise(&mut eps);
        for (wi, e) in w.iter().zip(eps.iter()) {
            s += (wi * e).sin() * m;
        }
    }
    s
}

#[test]
fn generators_made_here_and_lent_fill_buffers_in_a_loop_with_their_results_used() {
    let w = data(3, 2.3);
    let mut rng = Lcg::new(9);
    let (value, g) = alternating_draws_grad(&w, &mut rng);
    let mut plain_rng = Lcg::new(9);
    close("value", value, alternating_plain(&w, &mut plain_rng), TOL);
    assert_eq!(rng, plain_rng);
    // The draws again, in the same order.
    let (mut r, mut local) = (Lcg::new(9), Lcg { state: 5 });
    let mut eps = vec![0.0; 3];
    let mut expected = vec![0.0; 3];
    for k in 0..3 {
        let m = if k % 2 == 0 {
            r.fill_sum(&mut eps)
        } else {
            local.fill_sum(&mut eps)
        };
        local.fill_noise(&mut eps);
        for i in 0..3 {
            expected[i] += (w[i] * eps[i]).cos() * eps[i] * m;
        }
    }
    close_all("∂/∂w", &g, &expected);
    fd_vec("∂/∂w", |w| alternating_plain(w, &mut Lcg::new(9)), &w, &g);
}

/// A `Vec` and a fixed-size array filled by one call on a generator made by its constructor,
/// then one more draw `t`: `w_0 u_0 + w_1 u_1 + w_2 (v_0 + v_1 + v_2) t`, whose gradient is
/// `(u_0, u_1, (v_0 + v_1 + v_2) t)`.
#[differentiate]
pub fn two_buffers(w: &[f64]) -> f64 {
    let mut rng = Lcg::new(3);
    let mut u = vec![0.0; 2];
    let mut v = [0.0; 3];
    rng.fill_two(&mut u, &mut v);
    let t = rng.next_f64();
    w[0] * u[0] + w[1] * u[1] + w[2] * (v[0] + v[1] + v[2]) * t
}

#[test]
fn one_call_fills_a_vec_and_an_array_and_the_generator_moves_on() {
    let w = data(3, 0.4);
    let (value, g) = two_buffers_grad(&w);
    let mut r = Lcg::new(3);
    let (mut u, mut v) = (vec![0.0; 2], [0.0; 3]);
    r.fill_two(&mut u, &mut v);
    let t = r.next_f64();
    close("value", value, two_buffers(&w), TOL);
    close_all("∂/∂w", &g, &[u[0], u[1], (v[0] + v[1] + v[2]) * t]);
    fd_vec("∂/∂w", two_buffers, &w, &g);
}

/// A generator made by its constructor, filling a buffer and then drawing one more value in
/// each round: `Σ_k u_k Σ_i w_i ε_ki`, so `∂/∂w_i = Σ_k u_k ε_ki`.
#[differentiate]
pub fn rounds_of_draws(w: &[f64]) -> f64 {
    let mut rng = Lcg::new(21);
    let mut eps = vec![0.0; w.len()];
    let mut s = 0.0;
    for _ in 0..3 {
        rng.fill_noise(&mut eps);
        let u = rng.next_f64();
        for i in 0..w.len() {
            s += u * w[i] * eps[i];
        }
    }
    s
}

#[test]
fn a_constructed_generator_fills_and_draws_in_each_round() {
    let w = data(3, 1.1);
    let (value, g) = rounds_of_draws_grad(&w);
    close("value", value, rounds_of_draws(&w), TOL);
    let mut rng = Lcg::new(21);
    let mut eps = vec![0.0; 3];
    let mut expected = vec![0.0; 3];
    for _ in 0..3 {
        rng.fill_noise(&mut eps);
        let u = rng.next_f64();
        for i in 0..3 {
            expected[i] += u * eps[i];
        }
    }
    close_all("∂/∂w", &g, &expected);
    fd_vec("∂/∂w", rounds_of_draws, &w, &g);
}

// ---------------------------------------------------------------------------------------------
// Beside them, a differentiated state made from data and lent a buffer that does hold
// derivatives: it takes them in, and its methods are differentiated after the call.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, autodiff::Differentiable)]
pub struct Ema {
    pub avg: Vec<f64>,
    pub decay: f64,
}

#[differentiate]
impl Ema {
    pub fn new(decay: f64, n: usize) -> Ema {
        Ema {
            avg: vec![0.0; n],
            decay,
        }
    }

    /// Takes the weights into the running average and halves them.
    pub fn absorb(&mut self, w: &mut [f64]) {
        for i in 0..w.len() {
            self.avg[i] = self.decay * self.avg[i] + (1.0 - self.decay) * w[i];
            w[i] *= 0.5;
        }
    }

    pub fn total(&self) -> f64 {
        self.avg.iter().sum()
    }
}

/// Three rounds of `absorb` from `w = w0`: `avg_i = 0.1 w0_i (0.81 + 0.9·0.5 + 0.25) = c
/// w0_i` with `c = 0.1·1.51`, `w_1 = w0_1 / 8`; `t = c Σ w0`, so the loss `t² + avg_0 + w_1`
/// has `∂/∂w0_i = 2 c t + c [i = 0] + [i = 1] / 8`.
#[differentiate]
pub fn averaged(w0: &[f64]) -> f64 {
    let mut ema = Ema::new(0.9, 2);
    let mut w = w0.to_vec();
    for _ in 0..3 {
        ema.absorb(&mut w);
    }
    let t = ema.total();
    t * t + ema.avg[0] + w[1]
}

#[test]
fn a_state_made_from_data_and_lent_differentiated_weights_is_differentiated_after() {
    let w0 = [0.7, -0.3];
    let (value, g) = averaged_grad(&w0);
    close("value", value, averaged(&w0), TOL);
    let c = 0.1 * (0.81 + 0.45 + 0.25);
    let t = c * (w0[0] + w0[1]);
    close_all("∂/∂w0", &g, &[2.0 * c * t + c, 2.0 * c * t + 0.125]);
    fd_vec("∂/∂w0", averaged, &w0, &g);
}

// ---------------------------------------------------------------------------------------------
// A model's method lent the generator beside data, under `wrt(self)`.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, autodiff::Differentiable)]
pub struct Gauss {
    pub mu: Vec<f64>,
    pub log_s: Vec<f64>,
}

#[differentiate(wrt(self))]
impl Gauss {
    /// `Σ_i (μ_i + σ_i ε_i − t_i)²` with `ε_i` drawn by Box–Muller from `rng`: `∂/∂μ_i = 2
    /// r_i`, `∂/∂log σ_i = 2 r_i σ_i ε_i`.
    pub fn loss(&self, t: &[f64], rng: &mut Lcg) -> f64 {
        let mut l = 0.0;
        for i in 0..self.mu.len() {
            let u1 = rng.next_f64().max(1e-300);
            let u2 = rng.next_f64();
            let e = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            let z = self.mu[i] + self.log_s[i].exp() * e;
            l += (z - t[i]).powi(2);
        }
        l
    }
}

#[test]
fn a_method_under_wrt_self_draws_from_a_generator_it_is_lent() {
    let m = Gauss {
        mu: data(3, 0.6),
        log_s: data(3, 2.2),
    };
    let t = data(3, 5.0);
    let mut rng = Lcg::new(8);
    let (value, g) = m.loss_grad(&t, &mut rng);
    let mut plain_rng = Lcg::new(8);
    close("value", value, m.loss(&t, &mut plain_rng), TOL);
    assert_eq!(rng, plain_rng);
    let mut eps = vec![0.0; 3];
    fill_gauss(&mut Lcg::new(8), &mut eps);
    for i in 0..3 {
        let s = m.log_s[i].exp();
        let r = m.mu[i] + s * eps[i] - t[i];
        close("∂/∂μ", g.mu[i], 2.0 * r, TOL);
        close("∂/∂log σ", g.log_s[i], 2.0 * r * s * eps[i], TOL);
    }
    fd_vec(
        "∂/∂μ",
        |mu| {
            let p = Gauss {
                mu: mu.to_vec(),
                log_s: m.log_s.clone(),
            };
            p.loss(&t, &mut Lcg::new(8))
        },
        &m.mu,
        &g.mu,
    );
}

// ---------------------------------------------------------------------------------------------
// A generator or a log kept in a cell: `RefCell` fields of a model, `RefCell` locals.
// ---------------------------------------------------------------------------------------------

/// Dropout whose mask is drawn from a generator the layer keeps in a `RefCell` (a `&self`
/// method changes it through the guard): `tanh(Σ_{i kept} w_i x_i / (1 − p))`, so `∂/∂w_i =
/// (1 − y²) x_i / (1 − p)` for the kept `i`, `0` for the others.
#[derive(Clone, autodiff::Differentiable)]
pub struct Dropout {
    pub w: Vec<f64>,
    #[differentiable(data)]
    pub rng: std::cell::RefCell<Lcg>,
    #[differentiable(data)]
    pub p: f64,
}

#[differentiate(wrt(self))]
impl Dropout {
    pub fn forward(&self, x: &[f64]) -> f64 {
        let mut s = 0.0;
        for i in 0..self.w.len() {
            let keep = self.rng.borrow_mut().next_f64() >= self.p;
            if keep {
                s += self.w[i] * x[i] / (1.0 - self.p);
            }
        }
        s.tanh()
    }

    /// Weights scaled by uniform noise in [½, 1½) from the same cell: `Σ_i (w_i (1 + e_i) −
    /// t_i)²`, `∂/∂w_i = 2 r_i (1 + e_i)`.
    pub fn noisy_fit(&self, t: &[f64]) -> f64 {
        let mut l = 0.0;
        for i in 0..self.w.len() {
            let e = self.rng.borrow_mut().next_f64() - 0.5;
            l += (self.w[i] * (1.0 + e) - t[i]).powi(2);
        }
        l
    }
}

#[test]
fn a_generator_in_a_refcell_field_draws_a_dropout_mask_and_noise() {
    let layer = Dropout {
        w: data(5, 0.8),
        rng: std::cell::RefCell::new(Lcg::new(3)),
        p: 0.4,
    };
    let x = data(5, 3.3);
    let plain = layer.clone();
    let (value, g) = layer.forward_grad(&x);
    close("value", value, plain.forward(&x), TOL);
    assert_eq!(*layer.rng.borrow(), *plain.rng.borrow());
    let mut r = Lcg::new(3);
    let keep: Vec<bool> = (0..5).map(|_| r.next_f64() >= 0.4).collect();
    let s: f64 = (0..5)
        .filter(|&i| keep[i])
        .map(|i| layer.w[i] * x[i] / 0.6)
        .sum();
    let d = 1.0 - s.tanh().powi(2);
    for i in 0..5 {
        let e = if keep[i] { d * x[i] / 0.6 } else { 0.0 };
        close("∂/∂w", g.w[i], e, TOL);
    }

    let t = data(5, 0.1);
    let start = layer.rng.borrow().clone();
    let (value, g) = layer.noisy_fit_grad(&t);
    let mut r = start.clone();
    let mut expected_value = 0.0;
    for i in 0..5 {
        let e = r.next_f64() - 0.5;
        let res = layer.w[i] * (1.0 + e) - t[i];
        expected_value += res * res;
        close("∂/∂w", g.w[i], 2.0 * res * (1.0 + e), TOL);
    }
    close("value", value, expected_value, TOL);
    fd_vec(
        "∂/∂w",
        |w| {
            let l = Dropout {
                w: w.to_vec(),
                rng: std::cell::RefCell::new(start.clone()),
                p: 0.4,
            };
            l.noisy_fit(&t)
        },
        &layer.w,
        &g.w,
    );
}

/// A generator in a local `RefCell`: `Σ_i exp(w_i e_i)`, `∂/∂w_i = e_i exp(w_i e_i)`; the
/// draws move the cell's generator on (a copy of the cell would draw the same value each
/// time).
#[differentiate]
pub fn cell_draws(w: &[f64]) -> f64 {
    let rng = std::cell::RefCell::new(Lcg { state: 2 });
    let mut l = 0.0;
    for &wi in w {
        let e = rng.borrow_mut().next_f64();
        l += (wi * e).exp();
    }
    l
}

/// A log kept in a local `RefCell` beside the sum, read after the loop: `n Σ w_i²` with `n`
/// the number of positive weights, `∂/∂w_i = 2 n w_i`.
#[differentiate]
pub fn logged_squares(w: &[f64]) -> f64 {
    let log = std::cell::RefCell::new(Vec::new());
    let mut s = 0.0;
    for i in 0..w.len() {
        if w[i] > 0.0 {
            log.borrow_mut().push(i);
        }
        s += w[i] * w[i];
    }
    let n = log.borrow().len() as f64;
    s * n
}

#[test]
fn cells_kept_in_locals_change_as_in_the_plain_function() {
    let w = data(4, 1.9);
    let (value, g) = cell_draws_grad(&w);
    close("value", value, cell_draws(&w), TOL);
    let mut r = Lcg { state: 2 };
    let expected: Vec<f64> = w
        .iter()
        .map(|&wi| {
            let e = r.next_f64();
            e * (wi * e).exp()
        })
        .collect();
    close_all("∂/∂w", &g, &expected);
    fd_vec("∂/∂w", cell_draws, &w, &g);

    let (value, g) = logged_squares_grad(&w);
    close("value", value, logged_squares(&w), TOL);
    let n = w.iter().filter(|&&v| v > 0.0).count() as f64;
    let expected: Vec<f64> = w.iter().map(|&wi| 2.0 * n * wi).collect();
    close_all("∂/∂w", &g, &expected);
    fd_vec("∂/∂w", logged_squares, &w, &g);
}

// ---------------------------------------------------------------------------------------------
// Langevin steps whose noise the caller draws and lends as a slice.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, autodiff::Differentiable)]
pub struct Langevin {
    pub x: Vec<f64>,
    pub lr: f64,
}

#[differentiate]
impl Langevin {
    /// One step on `U(x) = Σ x²/2`: `x ← (1 − lr) x + √(2 lr) ε`.
    pub fn step(&mut self, eps: &[f64]) {
        for i in 0..self.x.len() {
            self.x[i] += -self.lr * self.x[i] + (2.0 * self.lr).sqrt() * eps[i];
        }
    }
}

/// Three steps from `c0`, the noise drawn in the caller and lent to each: `Σ x_3²`.
#[differentiate(wrt(c0))]
pub fn langevin_run(c0: &Langevin, seed: u64) -> f64 {
    let mut rng = Lcg::new(seed);
    let mut eps = vec![0.0; c0.x.len()];
    let mut c = c0.clone();
    for _ in 0..3 {
        rng.fill_noise(&mut eps);
        c.step(&eps);
    }
    c.x.iter().map(|v| v * v).sum()
}

#[test]
fn langevin_steps_take_the_noise_the_caller_draws() {
    let c0 = Langevin {
        x: data(3, 0.7),
        lr: 0.1,
    };
    let (value, g) = langevin_run_grad(&c0, 4);
    close("value", value, langevin_run(&c0, 4), TOL);
    // x_3 = a³ x_0 + s (a² ε_1 + a ε_2 + ε_3) with a = 1 − lr, s = √(2 lr): ∂/∂x_0 = 2 a³ x_3.
    let (a, s) = (1.0 - c0.lr, (2.0 * c0.lr).sqrt());
    let mut rng = Lcg::new(4);
    let mut eps = [vec![0.0; 3], vec![0.0; 3], vec![0.0; 3]];
    for e in eps.iter_mut() {
        rng.fill_noise(e);
    }
    let x3: Vec<f64> = (0..3)
        .map(|i| a.powi(3) * c0.x[i] + s * (a * a * eps[0][i] + a * eps[1][i] + eps[2][i]))
        .collect();
    let expected: Vec<f64> = x3.iter().map(|v| 2.0 * a.powi(3) * v).collect();
    close_all("∂/∂x0", &g.x, &expected);
    fd_vec(
        "∂/∂x0",
        |x| {
            let c = Langevin {
                x: x.to_vec(),
                lr: c0.lr,
            };
            langevin_run(&c, 4)
        },
        &c0.x,
        &g.x,
    );
    let at = |lr: f64| {
        langevin_run(
            &Langevin {
                x: c0.x.clone(),
                lr,
            },
            4,
        )
    };
    fd("∂/∂lr", at, c0.lr, g.lr);
}
