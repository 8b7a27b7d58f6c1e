//! Data that a method run as written changes in place (a `&mut self` method of a user's trait
//! on a `mut` `Vec` of floats that is not differentiated), read before and after
//! the change. The pullback must read what the function read: the elements before the change
//! are not the elements the value holds at the end of the call. Each gradient is checked
//! against the one written out by hand and against central finite differences.

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
    let expected: Vec<f64> = (0..3)
        .map(|k| data[k] + 2.0 * x[k] * rotated[k])
        .collect();
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
