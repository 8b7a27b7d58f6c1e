//! An activation kept as a function pointer in a parameter struct and mapped over a
//! differentiated array: the error says to keep the choice as an enum field and match on it.
use autodiff::{Differentiable, differentiate};
use ndarray::Array2;

#[derive(Clone, Differentiable)]
struct Layer {
    w: Array2<f64>,
    act: fn(f64) -> f64,
}

#[differentiate(wrt(l))]
fn loss(l: &Layer, x: &Array2<f64>) -> f64 {
    x.dot(&l.w).mapv(l.act).sum()
}

fn main() {}
