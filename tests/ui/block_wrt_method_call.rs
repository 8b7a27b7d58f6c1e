//! A method called with a differentiated value where the `impl` block's `wrt(..)`, which
//! applies to every method, leaves the parameter out: the error says to give each method its
//! own list.
use autodiff::{Differentiable, differentiate};
use ndarray::{Array1, Array2};

#[derive(Clone, Differentiable)]
struct AutoEncoder {
    enc: Array2<f64>,
    dec: Array2<f64>,
    b: Array1<f64>,
}

#[differentiate(wrt(self))]
impl AutoEncoder {
    fn encode(&self, x: &Array2<f64>) -> Array2<f64> {
        x.dot(&self.enc).mapv(f64::tanh)
    }
    fn decode(&self, z: &Array2<f64>) -> Array2<f64> {
        z.dot(&self.dec) + &self.b
    }
    fn loss(&self, x: &Array2<f64>) -> f64 {
        let z = self.encode(x);
        (&self.decode(&z) - x).mapv(|e| e * e).sum()
    }
}

fn main() {}
