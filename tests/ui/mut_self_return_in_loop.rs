// A `return` inside a loop of a differentiated method taking `&mut self`: its by-value copy
// cannot give back `self` from inside the loop, so the error says how to write it.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Samples {
    xs: Vec<f64>,
}

#[differentiate]
impl Samples {
    fn add(&mut self, v: f64) {
        for i in 0..self.xs.len() {
            if self.xs[i] > 5.0 {
                return;
            }
        }
        self.xs.push(v * v);
    }
}

fn main() {}
