//! Workload 5: the ADBench LSTM objective (Srajer, Schuster and Fitzgibbon, "A benchmark of
//! selected algorithmic differentiation tools on some problems in computer vision and machine
//! learning", 2018): a character model of `l` stacked LSTM layers with *diagonal* weights (every
//! gate of unit `i` reads only unit `i` of its input and of its hidden state), scored by the
//! log-likelihood of each next element of a sequence.
//!
//! Parameters, as ADBench lays them out, for hidden size `b`:
//!
//! - `main_params` (`8·b·l`): per layer `8b` values, the weights of the forget, input, output and
//!   change gates (`b` each), then their biases in the same order;
//! - `extra_params` (`3b`): the input weights `e_in`, the output weights `e_out`, the output
//!   biases `β_out`;
//! - `state` (`2·b·l`, inactive): per layer the hidden state `h`, then the cell `c`;
//! - `sequence` (`c_len·b`, inactive): `c_len` elements of `b` values each.
//!
//! One step of layer `k` with input `x` (for the first layer `x = sequence[t] ⊙ e_in`, above it the
//! new hidden state of the layer below), unit by unit:
//!
//! ```text
//! f = σ(x·W_f + b_f)    g = σ(h·W_i + b_i)    o = σ(x·W_o + b_o)    u = tanh(h·W_c + b_c)
//! c ← c·f + g·u         h ← o·tanh(c)
//! ```
//!
//! (ADBench's quirk, kept: the forget and output gates read the input, the input and change gates
//! read the hidden state.) The prediction is `y = h_top ⊙ e_out + β_out`, and the loss is
//!
//! ```text
//! loss = −1/((c_len − 1)·b) · Σ_{t < c_len−1} Σᵢ sequence[t+1]ᵢ · (yᵢ − ln(Σⱼ e^{yⱼ} + 2))
//! ```
//!
//! with ADBench's `+ 2` inside its log-sum-exp. Active: `main_params` and `extra_params`.
//!
//! The function is written as a user writes it for `#[differentiate]`: scalar loops over slices,
//! the state a local copy (`state.to_vec()`) overwritten element by element at every step, the
//! prediction a local array, and `sigmoid` a differentiated helper called through its `_vjp`.
//!
//! The hand-written gradient is backpropagation through time. Its forward pass keeps, per step,
//! layer and unit, the gates `f, g, o, u` and `tanh c`, and the state after every step; its
//! backward pass walks the steps in reverse with the cotangents `h̄`, `c̄` carried from step
//! `t + 1` to step `t`. With `s = −1/((c_len − 1)·b)`, `Y = Σᵢ sequence[t+1]ᵢ` and
//! `pᵢ = e^{yᵢ} / (Σⱼ e^{yⱼ} + 2)`:
//!
//! ```text
//! ȳᵢ = s·(sequence[t+1]ᵢ − Y·pᵢ)      ē_outᵢ += ȳᵢ·h_topᵢ    β̄_outᵢ += ȳᵢ    h̄_topᵢ += ȳᵢ·e_outᵢ
//! c̄ = c̄_next + h̄·o·(1 − tanh² c)     ō = h̄·tanh c
//! z̄_f = c̄·c_prev·f(1 − f)   z̄_g = c̄·u·g(1 − g)   z̄_o = ō·o(1 − o)   z̄_u = c̄·g·(1 − u²)
//! W̄_f += z̄_f·x   W̄_i += z̄_g·h_prev   W̄_o += z̄_o·x   W̄_c += z̄_u·h_prev   (biases: += z̄)
//! x̄ = z̄_f·W_f + z̄_o·W_o       h̄_prev = z̄_g·W_i + z̄_u·W_c       c̄_prev = c̄·f
//! ```
//!
//! `x̄` goes to the layer below (its `h̄` at the same step) or, for the first layer, to
//! `ē_inᵢ += x̄·sequence[t]ᵢ`; `h̄_prev` and `c̄_prev` are carried to step `t − 1`.
//!
//! The tape version builds `σ` and `tanh` from `exp` (`easy-ml` has no `tanh`):
//! `σ(z) = 1/(1 + e^{−z})`, `tanh z = 1 − 2/(e^{2z} + 1)`, equal in exact arithmetic.
//!
//! Finite differences need `2p + 1` evaluations for `p = 8bl + 3b` parameters (`p = 1216` at
//! `b = 64`, `l = 2`): the runner differentiates 16 evenly spaced coordinates
//! ([`super::fd_coordinates`]) and the report scales its time to all `p` (marked `~`). The check
//! against the hand-written gradient uses a more accurate difference in the same coordinates
//! (see [`fd_check`]).

// The objective indexes by loop counters on purpose: that is the subset `#[differentiate]` reads.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;
use std::mem::size_of_val;

use autodiff::differentiate;
use easy_ml::differentiation::record_operations::SwappedOperations;
use easy_ml::differentiation::{Record, WengertList};
use easy_ml::numeric::extra::{Exp, Ln};

use super::alloc::heap_kept_by;
use super::{
    Case, Method, Rng, Stored, central_fd_coords, check_gradients, fd_coordinates, runner,
};

/// The logistic function `σ(x) = 1/(1 + e^{−x})`.
#[differentiate]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The ADBench LSTM loss (see the module docs): `layers` layers of hidden size `b`, over
/// `sequence.len() / b` elements.
#[differentiate(wrt(main_params, extra_params))]
pub fn lstm(
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
    layers: usize,
    b: usize,
) -> f64 {
    let steps = sequence.len() / b;
    let mut s = state.to_vec();
    let mut x = vec![0.0; b];
    let mut y = vec![0.0; b];
    let mut total = 0.0;
    let mut count = 0;
    for t in 0..steps - 1 {
        for i in 0..b {
            x[i] = sequence[t * b + i] * extra_params[i];
        }
        for k in 0..layers {
            // This layer's weights, biases, hidden state and cell.
            let w = 8 * b * k;
            let bias = w + 4 * b;
            let h = 2 * b * k;
            let c = h + b;
            for i in 0..b {
                let input = if k == 0 { x[i] } else { s[h - 2 * b + i] };
                let forget = sigmoid(input * main_params[w + i] + main_params[bias + i]);
                let ingate = sigmoid(s[h + i] * main_params[w + b + i] + main_params[bias + b + i]);
                let outgate =
                    sigmoid(input * main_params[w + 2 * b + i] + main_params[bias + 2 * b + i]);
                let change =
                    (s[h + i] * main_params[w + 3 * b + i] + main_params[bias + 3 * b + i]).tanh();
                s[c + i] = s[c + i] * forget + ingate * change;
                s[h + i] = outgate * s[c + i].tanh();
            }
        }
        let top = 2 * b * (layers - 1);
        let mut sum = 0.0;
        for i in 0..b {
            y[i] = s[top + i] * extra_params[b + i] + extra_params[2 * b + i];
            sum += y[i].exp();
        }
        let lse = (sum + 2.0).ln();
        for i in 0..b {
            total += sequence[(t + 1) * b + i] * (y[i] - lse);
        }
        count += b;
    }
    -total / count as f64
}

/// The gradient: `(main_params, extra_params)`.
pub type LstmGrad = (Vec<f64>, Vec<f64>);

/// What the hand-written forward pass keeps of one unit of one layer at one step.
#[derive(Clone, Copy, Default)]
struct Unit {
    forget: f64,
    ingate: f64,
    outgate: f64,
    change: f64,
    /// `tanh` of the new cell.
    tanh_cell: f64,
}

fn sigmoid_plain(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// The hand-written value and gradient: backpropagation through time (see the module docs).
pub fn lstm_hand(
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
    layers: usize,
    b: usize,
) -> (f64, LstmGrad) {
    let steps = sequence.len() / b;
    let width = 2 * b * layers;
    let (e_in, e_out, b_out) = (
        &extra_params[..b],
        &extra_params[b..2 * b],
        &extra_params[2 * b..3 * b],
    );
    // states[t]: the state before step t (states[0] is the initial one).
    let mut states = vec![0.0; steps * width];
    states[..width].copy_from_slice(state);
    let mut units = vec![Unit::default(); (steps - 1) * layers * b];
    // p[t·b + i] = e^{yᵢ} / (Σⱼ e^{yⱼ} + 2) at step t.
    let mut p = vec![0.0; (steps - 1) * b];
    let mut total = 0.0;
    for t in 0..steps - 1 {
        let (before, after) = states.split_at_mut((t + 1) * width);
        let prev = &before[t * width..];
        let next = &mut after[..width];
        let seq = &sequence[t * b..(t + 1) * b];
        for k in 0..layers {
            let wf = &main_params[8 * b * k..];
            let (h, c) = (2 * b * k, 2 * b * k + b);
            for i in 0..b {
                let x = if k == 0 {
                    seq[i] * e_in[i]
                } else {
                    next[h - 2 * b + i]
                };
                let hp = prev[h + i];
                let f = sigmoid_plain(x * wf[i] + wf[4 * b + i]);
                let g = sigmoid_plain(hp * wf[b + i] + wf[5 * b + i]);
                let o = sigmoid_plain(x * wf[2 * b + i] + wf[6 * b + i]);
                let u = (hp * wf[3 * b + i] + wf[7 * b + i]).tanh();
                let cell = prev[c + i] * f + g * u;
                let tc = cell.tanh();
                next[c + i] = cell;
                next[h + i] = o * tc;
                units[(t * layers + k) * b + i] = Unit {
                    forget: f,
                    ingate: g,
                    outgate: o,
                    change: u,
                    tanh_cell: tc,
                };
            }
        }
        let top = &next[2 * b * (layers - 1)..];
        let pt = &mut p[t * b..(t + 1) * b];
        let mut sum = 0.0;
        for i in 0..b {
            let y = top[i] * e_out[i] + b_out[i];
            pt[i] = y.exp();
            sum += pt[i];
        }
        let z = sum + 2.0;
        let lse = z.ln();
        let gold = &sequence[(t + 1) * b..(t + 2) * b];
        for i in 0..b {
            total += gold[i] * (top[i] * e_out[i] + b_out[i] - lse);
            pt[i] /= z;
        }
    }
    let count = ((steps - 1) * b) as f64;
    let value = -total / count;

    let scale = -1.0 / count;
    let mut g_main = vec![0.0; main_params.len()];
    let mut g_extra = vec![0.0; extra_params.len()];
    // Cotangents of each layer's hidden state and cell carried from step t + 1 to step t.
    let mut h_carry = vec![0.0; layers * b];
    let mut c_carry = vec![0.0; layers * b];
    // The cotangent of the current layer's new hidden state from above (output or next layer).
    let mut h_above = vec![0.0; b];
    for t in (0..steps - 1).rev() {
        let prev = &states[t * width..(t + 1) * width];
        let next = &states[(t + 1) * width..(t + 2) * width];
        let seq = &sequence[t * b..(t + 1) * b];
        let gold = &sequence[(t + 1) * b..(t + 2) * b];
        let gold_sum: f64 = gold.iter().sum();
        let top = &next[2 * b * (layers - 1)..];
        for i in 0..b {
            let dy = scale * (gold[i] - gold_sum * p[t * b + i]);
            g_extra[b + i] += dy * top[i];
            g_extra[2 * b + i] += dy;
            h_above[i] = dy * e_out[i];
        }
        for k in (0..layers).rev() {
            let wf = &main_params[8 * b * k..8 * b * (k + 1)];
            let gw = &mut g_main[8 * b * k..8 * b * (k + 1)];
            let (h, c) = (2 * b * k, 2 * b * k + b);
            let units = &units[(t * layers + k) * b..(t * layers + k + 1) * b];
            let hc = &mut h_carry[k * b..(k + 1) * b];
            let cc = &mut c_carry[k * b..(k + 1) * b];
            for i in 0..b {
                let Unit {
                    forget: f,
                    ingate: g,
                    outgate: o,
                    change: u,
                    tanh_cell: tc,
                } = units[i];
                let x = if k == 0 {
                    seq[i] * e_in[i]
                } else {
                    next[h - 2 * b + i]
                };
                let (hp, cp) = (prev[h + i], prev[c + i]);
                let dh = h_above[i] + hc[i];
                let dc = cc[i] + dh * o * (1.0 - tc * tc);
                let zf = dc * cp * f * (1.0 - f);
                let zg = dc * u * g * (1.0 - g);
                let zo = dh * tc * o * (1.0 - o);
                let zu = dc * g * (1.0 - u * u);
                gw[i] += zf * x;
                gw[b + i] += zg * hp;
                gw[2 * b + i] += zo * x;
                gw[3 * b + i] += zu * hp;
                gw[4 * b + i] += zf;
                gw[5 * b + i] += zg;
                gw[6 * b + i] += zo;
                gw[7 * b + i] += zu;
                let dx = zf * wf[i] + zo * wf[2 * b + i];
                hc[i] = zg * wf[b + i] + zu * wf[3 * b + i];
                cc[i] = dc * f;
                if k == 0 {
                    g_extra[i] += dx * seq[i];
                } else {
                    h_above[i] = dx;
                }
            }
        }
    }
    (value, (g_main, g_extra))
}

/// `σ(z) = 1/(1 + e^{−z})` on the tape.
fn sigmoid_tape(z: Record<'_, f64>) -> Record<'_, f64> {
    ((-z).exp() + 1.0).div_swapped(1.0)
}

/// `tanh z = 1 − 2/(e^{2z} + 1)` on the tape.
fn tanh_tape(z: Record<'_, f64>) -> Record<'_, f64> {
    ((z * 2.0).exp() + 1.0).div_swapped(2.0).sub_swapped(1.0)
}

/// The same objective on the `easy-ml` tape, with `σ` and `tanh` built from `exp`.
pub fn lstm_tape(
    list: &WengertList<f64>,
    main_params: &[f64],
    extra_params: &[f64],
    state: &[f64],
    sequence: &[f64],
    layers: usize,
    b: usize,
) -> (f64, LstmGrad) {
    list.clear();
    let vars = |v: &[f64]| -> Vec<Record<'_, f64>> {
        v.iter().map(|&p| Record::variable(p, list)).collect()
    };
    let (mr, er) = (vars(main_params), vars(extra_params));
    let steps = sequence.len() / b;
    let mut s: Vec<Record<'_, f64>> = state.iter().map(|&v| Record::constant(v)).collect();
    let mut total = Record::constant(0.0);
    for t in 0..steps - 1 {
        for k in 0..layers {
            let (w, bias, h, c) = (8 * b * k, 8 * b * k + 4 * b, 2 * b * k, 2 * b * k + b);
            for i in 0..b {
                let input = if k == 0 {
                    er[i] * sequence[t * b + i]
                } else {
                    s[h - 2 * b + i]
                };
                let forget = sigmoid_tape(input * mr[w + i] + mr[bias + i]);
                let ingate = sigmoid_tape(s[h + i] * mr[w + b + i] + mr[bias + b + i]);
                let outgate = sigmoid_tape(input * mr[w + 2 * b + i] + mr[bias + 2 * b + i]);
                let change = tanh_tape(s[h + i] * mr[w + 3 * b + i] + mr[bias + 3 * b + i]);
                s[c + i] = s[c + i] * forget + ingate * change;
                s[h + i] = outgate * tanh_tape(s[c + i]);
            }
        }
        let top = 2 * b * (layers - 1);
        let y: Vec<Record<'_, f64>> = (0..b)
            .map(|i| s[top + i] * er[b + i] + er[2 * b + i])
            .collect();
        let mut sum = Record::constant(2.0);
        for &yi in &y {
            sum = sum + yi.exp();
        }
        let lse = sum.ln();
        for i in 0..b {
            total = total + (y[i] - lse) * sequence[(t + 1) * b + i];
        }
    }
    let loss = total * (-1.0 / ((steps - 1) * b) as f64);
    let g = loss.derivatives();
    let grads = |v: &[Record<'_, f64>]| -> Vec<f64> { v.iter().map(|r| g[r]).collect() };
    (loss.number, (grads(&mr), grads(&er)))
}

/// Parameters and data of one size.
struct Problem {
    layers: usize,
    b: usize,
    main: Vec<f64>,
    extra: Vec<f64>,
    state: Vec<f64>,
    sequence: Vec<f64>,
}

impl Problem {
    fn new(layers: usize, b: usize, steps: usize) -> Problem {
        let mut rng = Rng::new(440 + (layers * 1000 + b) as u64);
        let mut normals = |m: usize, s: f64| (0..m).map(|_| s * rng.normal()).collect::<Vec<_>>();
        let main = normals(8 * b * layers, 0.5);
        let extra = normals(3 * b, 0.5);
        let state = normals(2 * b * layers, 0.5);
        // Every element nonzero, so every input weight has a nonzero gradient.
        let sequence = (0..steps * b).map(|_| rng.uniform()).collect();
        Problem {
            layers,
            b,
            main,
            extra,
            state,
            sequence,
        }
    }

    fn flat(&self) -> Vec<f64> {
        [&self.main[..], &self.extra].concat()
    }

    /// The objective ([`lstm`]).
    fn function(&self) -> f64 {
        lstm(
            &self.main,
            &self.extra,
            &self.state,
            &self.sequence,
            self.layers,
            self.b,
        )
    }

    /// Our generated value and gradient ([`lstm_grad`]).
    fn ours(&self) -> (f64, LstmGrad) {
        lstm_grad(
            &self.main,
            &self.extra,
            &self.state,
            &self.sequence,
            self.layers,
            self.b,
        )
    }

    /// The hand-written value and gradient ([`lstm_hand`]).
    fn hand(&self) -> (f64, LstmGrad) {
        lstm_hand(
            &self.main,
            &self.extra,
            &self.state,
            &self.sequence,
            self.layers,
            self.b,
        )
    }

    /// Value and gradient on the tape ([`lstm_tape`]).
    fn tape(&self, list: &WengertList<f64>) -> (f64, LstmGrad) {
        let (main, extra, state, seq) = (&self.main, &self.extra, &self.state, &self.sequence);
        lstm_tape(list, main, extra, state, seq, self.layers, self.b)
    }

    /// The objective at a flat parameter vector `[main_params, extra_params]`.
    fn eval_flat(&self, p: &[f64]) -> f64 {
        let m = self.main.len();
        lstm(
            &p[..m],
            &p[m..],
            &self.state,
            &self.sequence,
            self.layers,
            self.b,
        )
    }
}

fn flatten(g: &LstmGrad) -> Vec<f64> {
    [&g.0[..], &g.1].concat()
}

/// The check's finite differences in the coordinates `coords`: central differences at steps `h`
/// and `2h`, `h = 10⁻³·max(|θᵢ|, 1)`, combined by Richardson extrapolation,
/// `(4·D(h) − D(2h))/3`, whose truncation error is `O(h⁴)`.
///
/// Why not the timed runner's central difference: the loss is a mean over `(c_len − 1)·b` terms,
/// about 2.1, while its gradient components range from 10⁻² down to 10⁻⁹ (median 4·10⁻⁶). At the
/// runner's step (`6·10⁻⁶`) the rounding error of a central difference, a few `ε·|f| / h`, is
/// 10⁻¹¹ to 5·10⁻¹⁰ in the checked coordinates: coarser than the 3·10⁻¹¹ that the check's
/// tolerance allows its smallest components. The larger step brings the rounding error to about
/// 10⁻¹², and extrapolation keeps the truncation error below it.
fn fd_check(pb: &Problem, theta: &[f64], coords: &[usize]) -> (f64, Vec<f64>) {
    let y = pb.eval_flat(theta);
    let mut p = theta.to_vec();
    let mut g = vec![0.0; theta.len()];
    let mut central = |i: usize, h: f64| {
        p[i] = theta[i] + h;
        let fp = pb.eval_flat(&p);
        p[i] = theta[i] - h;
        let fm = pb.eval_flat(&p);
        p[i] = theta[i];
        (fp - fm) / (2.0 * h)
    };
    for &i in coords {
        let h = 1e-3 * theta[i].abs().max(1.0);
        g[i] = (4.0 * central(i, h) - central(i, 2.0 * h)) / 3.0;
    }
    (y, g)
}

pub fn cases() -> Vec<Case> {
    vec![case(2, 64, 32)]
}

fn case(layers: usize, b: usize, steps: usize) -> Case {
    let name = format!("LSTM l={layers} hidden {b}, sequence {steps}");
    let pb = Problem::new(layers, b, steps);
    let theta = pb.flat();
    let p = theta.len();
    let list = WengertList::new();

    let hand = pb.hand();
    let (yo, go) = pb.ours();
    let (yt, gt) = pb.tape(&list);
    let coords = fd_coordinates(p);
    let fd = fd_check(&pb, &theta, &coords);
    check_gradients(
        &name,
        &(hand.0, flatten(&hand.1)),
        &(yo, flatten(&go)),
        &(yt, flatten(&gt)),
        &fd,
        &coords,
    );

    let fd_scale = (2 * p + 1) as f64 / (2 * coords.len() + 1) as f64;
    let pb = std::rc::Rc::new(pb);
    let runners = vec![
        (Method::Function, {
            let pb = pb.clone();
            runner(move || black_box(&*pb).function())
        }),
        (Method::Ours, {
            let pb = pb.clone();
            runner(move || black_box(&*pb).ours())
        }),
        (Method::Hand, {
            let pb = pb.clone();
            runner(move || black_box(&*pb).hand())
        }),
        (Method::FiniteDiff, {
            let pb = pb.clone();
            runner(move || central_fd_coords(|p| pb.eval_flat(p), black_box(&theta), &coords))
        }),
        (Method::Tape, {
            let pb = pb.clone();
            runner(move || black_box(&*pb).tape(&list))
        }),
    ];
    Case {
        name,
        params: p,
        ops: None,
        fd_scale,
        runners,
        stored: Some(Box::new(move || {
            let (main, extra, state, seq) = (&pb.main, &pb.extra, &pb.state, &pb.sequence);
            let ((_, pullback), heap) =
                heap_kept_by(|| lstm_vjp(main, extra, state, seq, pb.layers, pb.b));
            Stored {
                closure: size_of_val(&pullback),
                heap,
            }
        })),
    }
}
