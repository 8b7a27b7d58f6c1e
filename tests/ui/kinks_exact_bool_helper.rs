// In `kinks = exact`, a branch decided by code the macro does not see, run as written on
// differentiated values (a helper or a data method returning a `bool`, an `Option` or an
// enum, a comparison called by its path), would take the piece of the plain result at a tie,
// whatever the direction: an error that says to write the comparison out.
use autodiff::{Differentiable, differentiate};

fn greater(a: f64, b: f64) -> bool {
    a > b
}

#[differentiate(kinks = exact)]
fn via_helper(a: f64, b: f64) -> f64 {
    if greater(a, b) { 2.0 * a } else { a + b }
}

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Threshold {
    pub t: f64,
}

impl Threshold {
    pub fn above(&self, x: f64) -> bool {
        x > self.t
    }
}

#[differentiate(kinks = exact, wrt(a))]
fn via_method(a: f64, th: &Threshold) -> f64 {
    if th.above(a) { 2.0 * a } else { a + th.t }
}

#[differentiate(kinks = exact)]
impl Threshold {
    pub fn open(&self, x: f64) -> bool {
        x > self.t
    }
    pub fn gate(&self, x: f64) -> f64 {
        if self.open(x) { 2.0 * x } else { x + self.t }
    }
}

#[differentiate(kinks = exact)]
fn by_path(a: f64, b: f64) -> f64 {
    if f64::gt(&a, &b) || PartialOrd::lt(&a, &-b) { 2.0 * a } else { a + b }
}

fn bin_of(edges: &[f64], t: f64) -> Option<usize> {
    (0..edges.len() - 1).find(|&i| edges[i] < t && t <= edges[i + 1])
}

#[differentiate(kinks = exact, wrt(t))]
fn binned(t: f64, edges: &[f64]) -> f64 {
    if let Some(_) = bin_of(edges, t) { 2.0 * t - 1.0 } else { t }
}

#[derive(Clone, Copy)]
enum Regime {
    Low,
    High,
}

fn classify(x: f64) -> Regime {
    if x > 1.0 { Regime::High } else { Regime::Low }
}

#[differentiate(kinks = exact)]
fn regime(a: f64) -> f64 {
    match classify(a) {
        Regime::High => 2.0 * a,
        Regime::Low => a + 1.0,
    }
}

#[differentiate(kinks = exact)]
fn in_a_loop(a: f64) -> f64 {
    let mut x = a;
    while greater(x, 1.0) {
        x -= 1.0;
    }
    x
}

#[differentiate(kinks = exact)]
fn in_a_guard(a: f64, b: f64, k: usize) -> f64 {
    match k {
        0 if greater(a, b) => a,
        _ => b,
    }
}

fn main() {}
