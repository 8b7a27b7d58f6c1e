use autodiff::differentiate;

// The item `find` returns from a chain that computes its items (`map`): found as written, the
// derivative through the binding would be zero. `match x.iter().find(..)` on the elements
// themselves is followed; this one is an error that says so.
#[differentiate]
fn first_above(x: &[f64], t: f64) -> f64 {
    match x.iter().map(|v| v * t).find(|&v| v > 1.0) {
        Some(v) => v * t,
        None => t,
    }
}

fn main() {
    let _ = first_above_grad(&[0.3, 1.2], 0.5);
}
