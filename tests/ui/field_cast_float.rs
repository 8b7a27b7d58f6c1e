use autodiff::{Differentiable, differentiate};

// A parameter struct's field cast to a float with `as` is read as a count or a size (data);
// a float field cast so is an error, not a derivative dropped.
#[derive(Clone, Differentiable)]
struct Line {
    slope: f64,
    n: usize,
}

#[differentiate]
fn predict(l: &Line, x: f64) -> f64 {
    l.slope as f64 * x / l.n as f64
}

fn main() {
    let _ = predict_grad(&Line { slope: 1.0, n: 2 }, 0.5);
}
