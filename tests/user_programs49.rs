//! Signal and numerical algorithms written in place, as they are ported from C or textbooks:
//! transforms, lifting steps, running filters, sorting networks and solvers that overwrite
//! their buffers.
//!
//! A ring buffer kept in a struct beside its write position, `struct Ring { buf: Vec<f64>,
//! head: usize }`, advanced by a `&mut self` method (`self.buf[self.head] = x; self.head =
//! (self.head + 1) % self.buf.len();`, a moving average's window) or in the function itself
//! (`r.buf[r.head] = x; r.head += 1;`), was rustc's "`usize` is not a value a differentiated
//! function can compute with" inside the generated code, or an error about `%` on floats: a
//! named field's read takes the kind of its struct, and once a float is written into one
//! field the struct holds floats, so `r.head + 1` was taken for float arithmetic. Beside an
//! integer literal or an integer variable (`(r.head + stride) % n` of `stride: usize`), a
//! field's read is now the integer it must be (Rust adds no integer to a float or to an array
//! of floats), checked so in the generated code. And a field that a struct literal of the
//! function gives an integer or a container of them (`P { head: 0, step: 3, next: vec![0; n],
//! .. }`) is data wherever the function reads a struct of that name: `r.head += r.step;` and a
//! permutation kept in the struct and changed in place, `r.next[i] = (r.next[i] + 2) % n;`,
//! `r.next.swap(i, j);`, which were rustc's "`usize` is not a value a differentiated function
//! can compute with" and "`Vec<usize>` is not differentiable" in the generated code. So is
//! one that a literal in a method of an `impl` block carrying the attribute gives an integer
//! (a constructor, `Self { order: (0..n).collect(), head: 0, step, .. }`), in the block's `&mut
//! self` methods: `self.head += self.step;`, `self.order.swap(0, n - 1);`.
//!
//! Each gradient is checked against its closed form, stated beside the test, and against
//! central finite differences through `autodiff::check`; each value against the plain
//! function's.

#![allow(clippy::needless_range_loop)] // written as users write them

use autodiff::check::{gradcheck, hvpcheck, jvpcheck};
use autodiff::{Differentiable, differentiate};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. A ring buffer's write position in a struct beside the floats.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, Differentiable)]
struct Ring {
    buf: Vec<f64>,
    head: usize,
}

#[differentiate(hessian)]
impl Ring {
    fn push(&mut self, x: f64) {
        self.buf[self.head] = x;
        self.head = (self.head + 1) % self.buf.len();
    }

    fn mean(&self) -> f64 {
        self.buf.iter().sum::<f64>() / self.buf.len() as f64
    }
}

/// `Σ_j (j + 1)·m_j`, `m_j` the mean of the last three squares `x_i²` (`i ≤ j`, zeros before).
#[differentiate(hessian)]
fn windowed_energy(x: &[f64]) -> f64 {
    let mut r = Ring {
        buf: vec![0.0; 3],
        head: 0,
    };
    let mut s = 0.0;
    for i in 0..x.len() {
        r.push(x[i] * x[i]);
        s += r.mean() * (i as f64 + 1.0);
    }
    s
}

/// The same window advanced in the function: the position incremented and wrapped by hand.
#[differentiate]
fn windowed_energy_inline(x: &[f64]) -> f64 {
    let mut r = Ring {
        buf: vec![0.0; 3],
        head: 0,
    };
    let mut s = 0.0;
    for i in 0..x.len() {
        r.buf[r.head] = x[i] * x[i];
        r.head += 1;
        if r.head == r.buf.len() {
            r.head = 0;
        }
        s += r.buf.iter().sum::<f64>() / 3.0 * (i as f64 + 1.0);
    }
    s
}

/// `∂/∂x_i = 2·x_i·Σ_{j=i}^{min(i+3, n)−1} (j + 1)/3`: `x_i²` stays in the window for three steps.
fn windowed_energy_gradient(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|i| {
            2.0 * x[i]
                * (i..(i + 3).min(n))
                    .map(|j| (j as f64 + 1.0) / 3.0)
                    .sum::<f64>()
        })
        .collect()
}

#[test]
fn ring_buffer_struct_advanced_by_a_method() {
    let x = data(8, 0.3);
    let (v, g) = windowed_energy_grad(&x);
    close("value", v, windowed_energy(&x), TOL);
    close_all("gradient", &g, &windowed_energy_gradient(&x));
    fd_vec("windowed_energy", windowed_energy, &x, &g);
    // The Hessian is diagonal, 2·Σ (j + 1)/3 over each sample's window.
    let dir = data(8, 2.1);
    let (_, _, hv) = windowed_energy_hvp(&x, &dir);
    let w: Vec<f64> = windowed_energy_gradient(&vec![1.0; 8]);
    close_all(
        "hvp",
        &hv,
        &dir.iter().zip(&w).map(|(d, w)| d * w).collect::<Vec<_>>(),
    );
    hvpcheck(|p: &Vec<f64>| windowed_energy_grad(p).1, &x, &dir, &hv).assert_ok();
}

#[test]
fn ring_buffer_struct_advanced_inline() {
    let x = data(7, 1.7);
    let (v, g) = windowed_energy_inline_grad(&x);
    close("value", v, windowed_energy_inline(&x), TOL);
    close("value against the method's", v, windowed_energy(&x), TOL);
    close_all("gradient", &g, &windowed_energy_gradient(&x));
    fd_vec("windowed_energy_inline", windowed_energy_inline, &x, &g);
    let dir = data(7, 0.4);
    let (_, t) = windowed_energy_inline_jvp(&x, &dir);
    jvpcheck(|p: &Vec<f64>| windowed_energy_inline(p), &x, &dir, &t).assert_ok();
    gradcheck(|p: &Vec<f64>| windowed_energy_inline(p), &x, &g).assert_ok();
}

/// A window of five advanced by a stride given as data: `s = Σ_i b_{h_i} + b_{h_i − 1}·x_i`,
/// read after each write at `h_i = stride·i mod 5`.
#[differentiate]
fn strided_ring(x: &[f64], stride: usize) -> f64 {
    let mut r = Ring {
        buf: vec![0.0; 5],
        head: 0,
    };
    let n = r.buf.len();
    let mut s = 0.0;
    for i in 0..x.len() {
        r.buf[r.head] = x[i] * x[i];
        r.head = (r.head + stride) % n;
        s += r.buf[r.head] + r.buf[(r.head + n - 1) % n] * x[i];
    }
    s
}

#[test]
fn ring_buffer_advanced_by_a_stride_of_data() {
    // Each x_k² lands in slot h_k and is read there, as `b_h` or `b_{h − 1}`, until it is
    // overwritten: ∂s/∂x_k = Σ over those reads of 2·x_k (times x_i for `b_{h − 1}·x_i`),
    // plus `b_{h_i − 1}` for the factor x_i itself.
    let x = data(9, 0.5);
    let (v, g) = strided_ring_grad(&x, 2);
    // Closed form: replay the positions and add each read's derivative to the sample it holds.
    let (mut owner, mut head, mut want, mut value) =
        (vec![None::<usize>; 5], 0usize, vec![0.0; 9], 0.0);
    let mut buf = [0.0; 5];
    for i in 0..9 {
        buf[head] = x[i] * x[i];
        owner[head] = Some(i);
        head = (head + 2) % 5;
        let prev = (head + 4) % 5;
        value += buf[head] + buf[prev] * x[i];
        if let Some(k) = owner[head] {
            want[k] += 2.0 * x[k];
        }
        if let Some(k) = owner[prev] {
            want[k] += 2.0 * x[k] * x[i];
        }
        want[i] += buf[prev];
    }
    close("value", v, value, TOL);
    close(
        "value against the plain function's",
        v,
        strided_ring(&x, 2),
        TOL,
    );
    close_all("gradient", &g, &want);
    fd_vec("strided_ring", |p| strided_ring(p, 2), &x, &g);
}

/// Two integer fields beside each other, one bound with its type first (see Known
/// limitations), and a permutation kept in a local beside the struct: `s = Σ_i b_{h_i}·x_i`
/// after writing `x_i²` at `h_i`, `h` advanced by the struct's stride.
#[derive(Clone, Debug, Differentiable)]
struct StridedRing {
    buf: Vec<f64>,
    head: usize,
    step: usize,
}

#[differentiate]
fn stride_from_a_field(x: &[f64]) -> f64 {
    let mut r = StridedRing {
        buf: vec![0.0; 5],
        head: 0,
        step: 3,
    };
    let mut order: Vec<usize> = (0..5).collect();
    let mut s = 0.0;
    for i in 0..x.len() {
        r.buf[order[r.head]] = x[i] * x[i];
        let step: usize = r.step;
        r.head += step;
        if r.head >= 5 {
            r.head -= 5;
        }
        order.swap(0, 4);
        s += r.buf[order[r.head]] * x[i];
    }
    s
}

#[test]
fn ring_buffer_stride_read_from_a_field() {
    let x = data(8, 0.9);
    let (v, g) = stride_from_a_field_grad(&x);
    // Replay the positions: ∂s/∂x_k = Σ over reads of slot p holding x_k² of 2·x_k·x_i, plus,
    // for the factor x_i, the slot's value.
    let (mut buf, mut owner) = ([0.0; 5], [None::<usize>; 5]);
    let (mut head, mut order) = (0usize, [0usize, 1, 2, 3, 4]);
    let (mut value, mut want) = (0.0, vec![0.0; 8]);
    for i in 0..8 {
        buf[order[head]] = x[i] * x[i];
        owner[order[head]] = Some(i);
        head = (head + 3) % 5;
        order.swap(0, 4);
        let p = order[head];
        value += buf[p] * x[i];
        if let Some(k) = owner[p] {
            want[k] += 2.0 * x[k] * x[i];
        }
        want[i] += buf[p];
    }
    close("value", v, value, TOL);
    close(
        "value against the plain function's",
        v,
        stride_from_a_field(&x),
        TOL,
    );
    close_all("gradient", &g, &want);
    fd_vec("stride_from_a_field", stride_from_a_field, &x, &g);
}

/// The stride and a permutation kept in the struct, known to be integers from its literal.
#[derive(Clone, Debug, Differentiable)]
struct OrderedRing {
    buf: Vec<f64>,
    next: Vec<usize>,
    head: usize,
    step: usize,
}

/// `s = Σ_i b_{next_i}·x_i + b_{h_i}` after writing `x_i²` at `next_i`, the permutation moved
/// and the position advanced by the struct's stride at each step.
#[differentiate]
fn permuted_ring(x: &[f64]) -> f64 {
    let n = x.len();
    let mut r = OrderedRing {
        buf: vec![0.0; n],
        next: vec![0; n],
        head: 0,
        step: 2,
    };
    for i in 0..n {
        r.next[i] = (i * 3) % n;
    }
    let mut s = 0.0;
    for i in 0..n {
        r.buf[r.next[i]] = x[i] * x[i];
        r.next[i] = (r.next[i] + 2) % n;
        r.next.swap(i, (i + 1) % n);
        r.head += r.step;
        r.head %= n;
        s += r.buf[r.next[i]] * x[i] + r.buf[r.head];
    }
    s
}

#[test]
fn ring_buffer_with_its_permutation_in_the_struct() {
    let x = data(7, 0.5);
    let n = 7;
    let (v, g) = permuted_ring_grad(&x);
    // Replay: each read of slot p holding x_k² adds 2·x_k (times x_i for the first read) to
    // ∂s/∂x_k, and the factor x_i adds the slot's value.
    let (mut buf, mut owner) = (vec![0.0; n], vec![None::<usize>; n]);
    let mut next: Vec<usize> = (0..n).map(|i| (i * 3) % n).collect();
    let (mut head, mut value, mut want) = (0usize, 0.0, vec![0.0; n]);
    for i in 0..n {
        buf[next[i]] = x[i] * x[i];
        owner[next[i]] = Some(i);
        next[i] = (next[i] + 2) % n;
        next.swap(i, (i + 1) % n);
        head = (head + 2) % n;
        let p = next[i];
        value += buf[p] * x[i] + buf[head];
        if let Some(k) = owner[p] {
            want[k] += 2.0 * x[k] * x[i];
        }
        if let Some(k) = owner[head] {
            want[k] += 2.0 * x[k];
        }
        want[i] += buf[p];
    }
    close("value", v, value, TOL);
    close(
        "value against the plain function's",
        v,
        permuted_ring(&x),
        TOL,
    );
    close_all("gradient", &g, &want);
    fd_vec("permuted_ring", permuted_ring, &x, &g);
    let dir = data(7, 1.1);
    let (_, t) = permuted_ring_jvp(&x, &dir);
    jvpcheck(|p: &Vec<f64>| permuted_ring(p), &x, &dir, &t).assert_ok();
}

/// A ring whose constructor gives the position and the permutation integers, advanced by a
/// `&mut self` method that reads them.
#[derive(Clone, Debug, Differentiable)]
struct ConstructedRing {
    buf: Vec<f64>,
    order: Vec<usize>,
    head: usize,
    step: usize,
}

#[differentiate]
impl ConstructedRing {
    fn new(n: usize, step: usize) -> Self {
        Self {
            buf: vec![0.0; n],
            order: (0..n).collect(),
            head: 0,
            step,
        }
    }

    fn push(&mut self, x: f64) {
        let n = self.buf.len();
        self.buf[self.order[self.head]] = x;
        self.head += self.step;
        if self.head >= n {
            self.head -= n;
        }
        self.order.swap(0, n - 1);
    }

    fn front(&self) -> f64 {
        self.buf[self.order[self.head]]
    }
}

/// `s = Σ_i f_i·x_i`, `f_i` the slot at the position after writing `x_i²` and advancing.
#[differentiate]
fn constructed_ring(x: &[f64]) -> f64 {
    let mut r = ConstructedRing::new(5, 2);
    let mut s = 0.0;
    for i in 0..x.len() {
        r.push(x[i] * x[i]);
        s += r.front() * x[i];
    }
    s
}

#[test]
fn ring_buffer_made_by_its_constructor() {
    let x = data(9, 0.5);
    let (v, g) = constructed_ring_grad(&x);
    // Replay: a read of slot p holding x_k² adds 2·x_k·x_i to ∂s/∂x_k, and the factor x_i
    // adds the slot's value.
    let n = 5;
    let (mut buf, mut owner) = (vec![0.0; n], vec![None::<usize>; n]);
    let mut order: Vec<usize> = (0..n).collect();
    let (mut head, mut value, mut want) = (0usize, 0.0, vec![0.0; 9]);
    for i in 0..9 {
        buf[order[head]] = x[i] * x[i];
        owner[order[head]] = Some(i);
        head = (head + 2) % n;
        order.swap(0, n - 1);
        let p = order[head];
        value += buf[p] * x[i];
        if let Some(k) = owner[p] {
            want[k] += 2.0 * x[k] * x[i];
        }
        want[i] += buf[p];
    }
    close("value", v, value, TOL);
    close(
        "value against the plain function's",
        v,
        constructed_ring(&x),
        TOL,
    );
    close_all("gradient", &g, &want);
    fd_vec("constructed_ring", constructed_ring, &x, &g);
}
