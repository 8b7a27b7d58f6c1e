use autodiff::differentiate;

// The front of a `Vec` of differentiated values taken off by `drain` inside a chain, the way one
// takes a batch off a queue: the chain runs as written on a copy of `v`, and `v.drain(..2);` as
// a statement is no way out here (the derivative does not follow `drain`), so both errors give
// what to write instead.
#[differentiate]
fn head_weight(x: &[f64], s: f64) -> f64 {
    let mut v: Vec<f64> = x.iter().map(|t| t * s).collect();
    let head: Vec<f64> = v.drain(..2).collect();
    head[0] * head[1] + v.iter().sum::<f64>()
}

fn main() {
    let _ = head_weight_grad(&[1.0, 2.0, 3.0], 0.5);
}
