use autodiff::{Differentiable, differentiate};
use ndarray::Array1;

#[derive(Clone, Differentiable)]
struct Layer {
    w: Array1<f64>,
}

impl Layer {
    #[differentiate]
    fn shrink(&mut self, s: f64) {
        self.w.mapv_inplace(|v| v * s);
    }
}

fn main() {}
