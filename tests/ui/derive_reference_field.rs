// A parameter struct borrowing its floats: the gradient could not hold the borrow.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Model<'a> {
    w: Vec<f64>,
    feats: &'a [f64],
}

#[differentiate]
fn fit<'a>(m: &Model<'a>) -> f64 {
    m.w.iter().zip(m.feats).map(|(w, f)| w * f).sum()
}

fn main() {
    let f = [1.0, 2.0];
    let _ = fit_grad(&Model { w: vec![0.5, 0.5], feats: &f });
}
