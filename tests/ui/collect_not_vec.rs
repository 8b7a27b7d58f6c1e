use autodiff::differentiate;
use std::collections::VecDeque;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let a = x.iter().map(|v| v * 2.0).collect::<VecDeque<f64>>();
    a[0]
}

fn main() {
    let _ = f_grad(&[1.0]);
}
