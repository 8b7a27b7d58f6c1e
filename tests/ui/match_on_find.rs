use autodiff::differentiate;

// The element `find` returns, taken out by a pattern: `find` runs as written, and the derivative
// through the binding would be zero (it was, without an error). Now the error names `find`.
#[differentiate]
fn first_above(x: &[f64], t: f64) -> f64 {
    match x.iter().copied().find(|&v| v > t) {
        Some(v) => v * t,
        None => t,
    }
}

fn main() {
    let _ = first_above_grad(&[0.3, 1.2], 0.5);
}
