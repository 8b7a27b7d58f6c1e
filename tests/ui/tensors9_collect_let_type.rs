use autodiff::differentiate;
use ndarray::Array1;
use std::collections::VecDeque;

// A chain collected into the type its `let` names: an `Array1` is followed (as
// `collect::<Array1<f64>>()`), another collection than a `Vec` is the error at the type.
#[differentiate]
fn queued(x: &Array1<f64>) -> f64 {
    let q: VecDeque<f64> = x.iter().map(|v| v * v).collect();
    q.iter().sum()
}

fn main() {
    let _ = queued_grad(&Array1::from(vec![1.0, 2.0]));
}
