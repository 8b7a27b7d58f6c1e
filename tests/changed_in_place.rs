//! Data changed in place after it was read: by a method run as written (a `&mut self` method
//! of a user's trait on a `mut` `Vec` of floats that is not differentiated, std's
//! `copy_within`), by an element write after a fill read it through a reference, or by a
//! field update of a local struct of data. The pullback must read what the function read: the
//! elements before the change are not the elements the value holds at the end of the call, and
//! a scratch array a loop filled is not what the loop wrote once a method has changed it. Each
//! gradient is checked against the one written out by hand (and central finite differences).

#![allow(clippy::needless_range_loop)]

use autodiff::differentiate;

mod common;
use common::*;

/// A user's in-place change of a data buffer, which the macro runs as written.
pub trait Shift {
    fn shift(&mut self);
}

impl Shift for Vec<f64> {
    fn shift(&mut self) {
        self.rotate_left(1);
    }
}

/// `x₀·w₀ + x₁·w'₀` where `w'` is `w` rotated by one: the same read `w[i]` before and after.
#[differentiate(wrt(x))]
fn element_before_and_after(x: &[f64], data: &[f64]) -> f64 {
    let mut w = data.to_vec();
    let i = 0;
    let a = w[i];
    w.shift();
    let b = w[i];
    x[0] * a + x[1] * b
}

#[test]
fn an_element_read_before_a_method_changes_its_array() {
    let (x, data) = ([0.7, -1.3], [2.0, 3.0, 5.0]);
    let (v, g) = element_before_and_after_grad(&x, &data);
    assert_eq!(v, element_before_and_after(&x, &data));
    close_all("element before and after", &g, &[2.0, 3.0]);
    fd_vec(
        "element before and after",
        |x| element_before_and_after(x, &data),
        &x,
        &g,
    );
}

/// `Σₖ xₖ·wₖ + Σₖ xₖ²·w'ₖ`: the whole array read before the change (a dot product), then each
/// element after it, in a loop.
#[differentiate(wrt(x))]
fn whole_before_elements_after(x: &[f64], data: &[f64]) -> f64 {
    let mut w = data.to_vec();
    let mut s = 0.0;
    for k in 0..x.len() {
        s += x[k] * w[k];
    }
    w.shift();
    for k in 0..x.len() {
        s += x[k] * x[k] * w[k];
    }
    s
}

#[test]
fn an_array_read_in_a_loop_before_a_method_changes_it() {
    let x = [0.7, -1.3, 0.4];
    let data = [2.0, 3.0, 5.0];
    let (v, g) = whole_before_elements_after_grad(&x, &data);
    assert_eq!(v, whole_before_elements_after(&x, &data));
    let rotated = [3.0, 5.0, 2.0];
    let expected: Vec<f64> = (0..3).map(|k| data[k] + 2.0 * x[k] * rotated[k]).collect();
    close_all("whole before, elements after", &g, &expected);
    fd_vec(
        "whole before, elements after",
        |x| whole_before_elements_after(x, &data),
        &x,
        &g,
    );
}

/// `Σₖ xₖ·wₖ·2 + x₀·w'₀`: the array read whole by an iterator chain before the change.
#[differentiate(wrt(x))]
fn chain_before(x: &[f64], data: &[f64]) -> f64 {
    let mut w = data.to_vec();
    let s: f64 = w.iter().zip(x.iter()).map(|(a, b)| a * b * 2.0).sum();
    w.shift();
    s + x[0] * w[0]
}

#[test]
fn an_array_read_by_an_iterator_chain_before_a_method_changes_it() {
    let x = [0.7, -1.3, 0.4];
    let data = [2.0, 3.0, 5.0];
    let (v, g) = chain_before_grad(&x, &data);
    assert_eq!(v, chain_before(&x, &data));
    close_all("chain before", &g, &[2.0 * 2.0 + 3.0, 3.0 * 2.0, 5.0 * 2.0]);
    fd_vec("chain before", |x| chain_before(x, &data), &x, &g);
}

/// Weights normalised in place by a user's method, per point.
pub trait Normalize {
    fn normalize(&mut self);
}

impl Normalize for Vec<f64> {
    fn normalize(&mut self) {
        let s: f64 = self.iter().sum();
        for v in self.iter_mut() {
            *v /= s;
        }
    }
}

/// `Σᵢ Σⱼ pᵢⱼ·wⱼ²` with `pᵢ = (xᵢⱼ² + 0.1)ⱼ / Σ`: the scratch vector is filled by a loop (a
/// fill, whose later reads would otherwise be taken for the values written) and then
/// normalised in place before the loop that reads it.
#[differentiate(wrt(w))]
fn responsibilities(w: &[f64], x: &[f64]) -> f64 {
    let d = w.len();
    let n = x.len() / d;
    let mut p = vec![0.0; d];
    let mut tot = 0.0;
    for i in 0..n {
        for j in 0..d {
            p[j] = x[i * d + j] * x[i * d + j] + 0.1;
        }
        p.normalize();
        for j in 0..d {
            tot += p[j] * w[j] * w[j];
        }
    }
    tot
}

#[test]
fn a_filled_array_normalised_in_place_before_it_is_read() {
    let (w, x) = (data(3, 0.5), data(9, 1.0));
    let (v, g) = responsibilities_grad(&w, &x);
    close("value", v, responsibilities(&w, &x), 1e-14);
    let d = w.len();
    let mut expected = vec![0.0; d];
    for i in 0..x.len() / d {
        let q: Vec<f64> = (0..d).map(|j| x[i * d + j] * x[i * d + j] + 0.1).collect();
        let s: f64 = q.iter().sum();
        for j in 0..d {
            expected[j] += 2.0 * w[j] * q[j] / s;
        }
    }
    close_all("normalised responsibilities", &g, &expected);
    fd_vec(
        "normalised responsibilities",
        |w| responsibilities(w, &x),
        &w,
        &g,
    );
}

/// A shift register filled by a loop and advanced by `copy_within` (std's, run as written on
/// data): `y_t = Σⱼ hⱼ·regⱼ`, loss `Σ_t (y_t − target_t)²`.
#[differentiate(wrt(h))]
fn fir(h: &[f64], sig: &[f64], target: &[f64]) -> f64 {
    let k = h.len();
    let mut reg = vec![0.0; k];
    for j in 0..k {
        reg[j] = sig[j];
    }
    let mut loss = 0.0;
    for t in 0..target.len() {
        reg.copy_within(1.., 0);
        reg[k - 1] = sig[k + t];
        let mut y = 0.0;
        for j in 0..k {
            y += h[j] * reg[j];
        }
        loss += (y - target[t]) * (y - target[t]);
    }
    loss
}

#[test]
fn a_filled_shift_register_advanced_by_copy_within() {
    let (h, sig, target) = (data(3, 0.5), data(8, 1.0), data(4, 2.0));
    let (v, g) = fir_grad(&h, &sig, &target);
    assert_eq!(v, fir(&h, &sig, &target));
    let k = h.len();
    let mut expected = vec![0.0; k];
    for t in 0..target.len() {
        // After t + 1 shifts the register holds sig[t + 1 ..= t + k].
        let reg: Vec<f64> = (0..k).map(|j| sig[t + 1 + j]).collect();
        let y: f64 = (0..k).map(|j| h[j] * reg[j]).sum();
        for j in 0..k {
            expected[j] += 2.0 * (y - target[t]) * reg[j];
        }
    }
    close_all("FIR filter", &g, &expected);
    fd_vec("FIR filter", |h| fir(h, &sig, &target), &h, &g);
}

/// A fill that reads through a reference to an array written after it: `cⱼ = 2·wⱼ` read
/// below, where `u₀` is 7. `Σⱼ cⱼ·uⱼ = 14·w₀ + Σ_{j>0} 2·wⱼ²`.
#[differentiate(wrt(w))]
fn through_a_reference(w: &[f64]) -> f64 {
    let d = w.len();
    let mut u = w.to_vec();
    let r = &u;
    let mut c = vec![0.0; d];
    for j in 0..d {
        c[j] = r[j] * 2.0;
    }
    u[0] = 7.0;
    let mut s = 0.0;
    for j in 0..d {
        s += c[j] * u[j];
    }
    s
}

#[test]
fn a_fill_reading_through_a_reference_to_an_array_written_later() {
    let w = [0.3, -0.5, 0.7];
    let (v, g) = through_a_reference_grad(&w);
    assert_eq!(v, through_a_reference(&w));
    close_all("through a reference", &g, &[14.0, -2.0, 2.8]);
    fd_vec("through a reference", through_a_reference, &w, &g);
}

#[derive(Clone)]
struct Buf {
    v: Vec<f64>,
}

/// A field of a local struct of data read, then changed (element write, `reverse`, `push`):
/// `w₀·v₀ + w₀·v'₀`.
#[differentiate(wrt(w))]
fn field_changed(w: &[f64], data: &[f64], how: usize) -> f64 {
    let mut b = Buf { v: data.to_vec() };
    let s1 = w[0] * b.v[0];
    if how == 0 {
        b.v[0] = 5.0;
    } else if how == 1 {
        b.v.reverse();
    } else {
        b.v.push(1.0);
    }
    s1 + w[0] * b.v[0]
}

#[test]
fn a_field_read_before_the_field_is_changed() {
    let data = [3.0, 2.0, 1.0];
    for (how, after) in [(0, 5.0), (1, 1.0), (2, 3.0)] {
        let (v, g) = field_changed_grad(&[0.3], &data, how);
        assert_eq!(v, field_changed(&[0.3], &data, how));
        close_all(&format!("field changed ({how})"), &g, &[3.0 + after]);
    }
}

/// `Σ wᵢxᵢ`, a differentiated helper lent a local array.
#[differentiate]
fn weighted_sum(a: &ndarray::Array1<f64>, x: &ndarray::Array1<f64>) -> f64 {
    (a * x).sum()
}

/// The array lent to the helper, then scaled in place (`w *= 2.0` takes `w` by value in the
/// generated code): `f = (d·x)·(2d·x)`, `∂f/∂x = 4(d·x)·d`. The helper's pullback cannot keep
/// its borrow of `w` past the change.
#[differentiate(wrt(x))]
fn lent_then_scaled(x: &ndarray::Array1<f64>, d: &ndarray::Array1<f64>) -> f64 {
    let mut w = d.clone();
    let s1 = weighted_sum(&w, x);
    w *= 2.0;
    s1 * weighted_sum(&w, x)
}

#[test]
fn an_array_lent_to_a_helper_then_changed_by_a_compound_assignment() {
    let x = ndarray::array![1.0, 2.0, -0.5];
    let d = ndarray::array![3.0, 0.5, 2.0];
    let (v, g) = lent_then_scaled_grad(&x, &d);
    assert_eq!(v, lent_then_scaled(&x, &d));
    let dx = d.dot(&x);
    let expected: Vec<f64> = d.iter().map(|&di| 4.0 * dx * di).collect();
    close_all("lent then scaled", g.as_slice().unwrap(), &expected);
}

/// `drain` and `splice` as statements on data: what they return borrows `w` until it is
/// dropped, which is at once. `x₀·w₁ + x₁·(x₀·w₀)·2·3` for `w = (3, 5)`.
#[differentiate(wrt(x))]
fn drained_and_spliced(x: &[f64], d: &[f64]) -> f64 {
    let mut w = d.to_vec();
    let a = x[0] * w[0];
    w.drain(..1);
    let b = x[0] * w[0];
    w.splice(0..1, [2.0, 3.0]);
    b + a * x[1] * w[0] * w[1]
}

#[test]
fn drain_and_splice_as_statements_on_data() {
    let (x, d) = ([2.0, 7.0], [3.0, 5.0]);
    let (v, g) = drained_and_spliced_grad(&x, &d);
    assert_eq!(v, drained_and_spliced(&x, &d));
    close_all(
        "drained and spliced",
        &g,
        &[5.0 + 3.0 * 7.0 * 6.0, 3.0 * 2.0 * 6.0],
    );
    fd_vec(
        "drained and spliced",
        |x| drained_and_spliced(x, &d),
        &x,
        &g,
    );
}

/// The same in a loop that sums a term per iteration: `Σₖ (wₖ·x)²` with `w` halved after each
/// term, `wₖ = d/2ᵏ`. `∂/∂x = Σₖ 2(wₖ·x)·wₖ`.
#[differentiate(wrt(x))]
fn lent_then_halved(x: &ndarray::Array1<f64>, d: &ndarray::Array1<f64>) -> f64 {
    let mut w = d.clone();
    let mut s = 0.0;
    for _ in 0..3 {
        s += weighted_sum(&w, x).powi(2);
        w *= 0.5;
    }
    s
}

#[test]
fn an_array_lent_to_a_helper_in_a_summing_loop_then_halved() {
    let x = ndarray::array![1.0, 2.0, -0.5];
    let d = ndarray::array![3.0, 0.5, 2.0];
    let (v, g) = lent_then_halved_grad(&x, &d);
    assert_eq!(v, lent_then_halved(&x, &d));
    let mut expected = ndarray::Array1::<f64>::zeros(3);
    for k in 0..3 {
        let w = &d * 0.5f64.powi(k);
        expected = expected + &w * (2.0 * w.dot(&x));
    }
    close_all(
        "lent then halved",
        g.as_slice().unwrap(),
        expected.as_slice().unwrap(),
    );
}

/// The user's `&mut self` method on an element of a grid of data (`rows[0].shift()`): it was
/// called on a copy of the row (the generated code did not compile, and made `mut` it would
/// have changed the copy only). The element is now copied, changed and written back.
#[differentiate(wrt(x))]
fn row_shifted(x: &[f64], data: &[Vec<f64>]) -> f64 {
    let mut rows = data.to_vec();
    let a = rows[0][0];
    rows[0].shift();
    x[0] * a + x[1] * rows[0][0] + x[2] * rows[1][0]
}

/// A data buffer lent `&mut` to a helper without `#[differentiate]`, and to a trait's method
/// called by its path: the call was of the helper's by-value copy, which only a differentiated
/// helper has (rustc's "cannot find function `__ad_mut_rotate`", and E0782 for the trait).
/// Where nothing differentiated reaches the call, it runs as written.
fn rotate(v: &mut [f64]) {
    v.rotate_left(1);
}

fn rotate_counting(v: &mut Vec<f64>, by: usize) -> usize {
    v.rotate_left(by);
    v.len()
}

#[differentiate(wrt(x))]
fn lent_to_plain_helpers(x: &[f64], data: &[f64]) -> f64 {
    let mut w = data.to_vec();
    let a = w[0];
    rotate(&mut w);
    let b = w[0];
    Shift::shift(&mut w);
    let n = rotate_counting(&mut w, 1);
    let mut arr = [data[0], data[1]];
    rotate(&mut arr);
    x[0] * a + x[1] * b + x[2] * w[0] * n as f64 + x[3] * arr[0]
}

#[test]
fn data_changed_by_methods_and_helpers_not_differentiated() {
    let x = [0.7, -1.3, 0.4];
    let data = vec![vec![2.0, 3.0, 5.0], vec![7.0, 11.0]];
    let (v, g) = row_shifted_grad(&x, &data);
    assert_eq!(v, row_shifted(&x, &data));
    close_all("row shifted", &g, &[2.0, 3.0, 7.0]);

    let x = [0.7, -1.3, 0.4, 2.5];
    let data = [2.0, 3.0, 5.0, 7.0];
    let (v, g) = lent_to_plain_helpers_grad(&x, &data);
    assert_eq!(v, lent_to_plain_helpers(&x, &data));
    // Rotated by one (3), by one again (5), by one more (7), times the length 4; the array
    // [2, 3] rotated: 3.
    close_all("plain helpers", &g, &[2.0, 3.0, 28.0, 3.0]);
    let (_, t) = lent_to_plain_helpers_jvp(&x, &data, &vec![1.0, 1.0, 1.0, 1.0]);
    close("plain helpers, tangent", t, 2.0 + 3.0 + 28.0 + 3.0, 1e-12);
}

/// `&mut self` methods of a differentiated `impl` called on structs that hold no differentiated
/// value (built from constants): the call of the method's by-value copy runs as written there,
/// on the element of `iter_mut` and on a local. (A first version of that passed the receiver
/// by value: rustc's E0308, caught by the random programs.)
#[derive(Clone, autodiff::Differentiable)]
struct Tally {
    s: f64,
    m: f64,
}

#[differentiate]
impl Tally {
    fn decay(&mut self, k: f64) {
        self.s *= k;
    }

    fn add(&mut self, v: f64, k: f64) {
        self.decay(k);
        self.s += v;
        self.m = self.m.max(v);
    }
}

#[differentiate]
fn tallies_of_constants(x: f64) -> f64 {
    let mut ts: Vec<Tally> = Vec::new();
    for i in 0..3 {
        ts.push(Tally {
            s: 0.5 * i as f64,
            m: 2.0,
        });
    }
    for t in ts.iter_mut() {
        t.add(0.3, 0.5);
    }
    let mut one = Tally { s: 1.0, m: 0.0 };
    one.decay(0.25);
    x * (ts[2].s + ts[1].m + one.s)
}

#[test]
fn methods_changing_structs_of_constants() {
    let (v, g) = tallies_of_constants_grad(1.5);
    assert_eq!(v, tallies_of_constants(1.5));
    // ts[2].s = 1.0·0.5 + 0.3, ts[1].m = max(2, 0.3), one.s = 0.25.
    close("tallies", g, 0.8 + 2.0 + 0.25, 1e-12);
}

/// A caller's random number generator lent `&mut` and left out of `wrt` (the signature of a
/// stochastic objective): the by-value copy made for callers took it too, and its result
/// needed a gradient type for `Lcg` (rustc's "`Lcg` cannot be differentiated" at the
/// attribute, whose advice, to leave it out of `wrt`, was already followed). A `&mut`
/// parameter that `wrt` leaves out is data.
pub struct Lcg {
    state: u64,
}

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

#[differentiate(wrt(theta))]
fn monte_carlo(theta: f64, rng: &mut Lcg) -> f64 {
    let mut acc = 0.0;
    for _ in 0..50 {
        let u = rng.uniform();
        acc += (theta * u).sin();
    }
    acc / 50.0
}

#[test]
fn generator_lent_mut_and_left_out() {
    let (mut r1, mut r2, mut r3) = (Lcg { state: 9 }, Lcg { state: 9 }, Lcg { state: 9 });
    let (v, g) = monte_carlo_grad(0.7, &mut r1);
    assert_eq!(v, monte_carlo(0.7, &mut r2));
    assert_eq!(
        r1.state, r2.state,
        "the generator advances as in the function"
    );
    let want: f64 = (0..50)
        .map(|_| {
            let u = r3.uniform();
            u * (0.7 * u).cos()
        })
        .sum::<f64>()
        / 50.0;
    close("monte carlo", g, want, 1e-12);
    let (_, t) = monte_carlo_jvp(0.7, &mut Lcg { state: 9 }, 1.0);
    close("monte carlo tangent", t, want, 1e-12);
}
