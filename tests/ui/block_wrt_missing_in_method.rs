//! The `impl` block's `wrt(self, z)` names a parameter some methods lack: each such method's
//! error suggests the list it needs (`wrt(self)`), and its body, which calls a method on a field
//! of `self`, gets no second error.
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2};

#[derive(Clone, Differentiable)]
struct Linear {
    w: Array2<f64>,
    b: Array1<f64>,
}

#[differentiate]
impl Linear {
    fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        x.dot(&self.w) + &self.b
    }
}

#[derive(Clone, Differentiable)]
struct AutoEncoder {
    enc: Linear,
    dec: Linear,
}

#[differentiate(wrt(self, z))]
impl AutoEncoder {
    fn encode(&self, x: &Array2<f64>) -> Array2<f64> {
        self.enc.forward(x).mapv(f64::tanh)
    }
    fn decode(&self, z: &Array2<f64>) -> Array2<f64> {
        self.dec.forward(z)
    }
}

fn main() {}
