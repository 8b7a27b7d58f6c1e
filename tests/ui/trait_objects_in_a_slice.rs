use autodiff::{Differentiable, differentiate};

pub trait Layer {
    fn forward(&self, x: &[f64]) -> Vec<f64>;
}

#[derive(Clone, Differentiable)]
pub struct Scale {
    pub k: f64,
}

#[differentiate]
impl Layer for Scale {
    fn forward(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|v| v * self.k).collect()
    }
}

// The elements of a slice of trait objects, called on differentiated values in a loop and in a
// `fold`: the method through `dyn Layer` is not followed, and the error says so at the call
// (not "no derivative rule for method `forward`").
#[differentiate(wrt(x))]
fn run(layers: &[Box<dyn Layer>], x: &[f64]) -> f64 {
    let mut h = x.to_vec();
    for l in layers {
        h = l.forward(&h);
    }
    h.iter().sum()
}

#[differentiate(wrt(x))]
fn run_fold(layers: &Vec<Box<dyn Layer>>, x: &[f64]) -> f64 {
    layers.iter().fold(x.to_vec(), |h, l| l.forward(&h)).iter().sum()
}

fn main() {
    let layers: Vec<Box<dyn Layer>> = vec![Box::new(Scale { k: 2.0 })];
    let _ = run_grad(&layers, &[1.0]);
    let _ = run_fold_grad(&layers, &[1.0]);
}
