use autodiff::differentiate;

// The item `find` returns from a chain that computes its items (`map`) is the closure applied
// again to the element found; where the closure changes a variable (`seen += 1`), applying it
// again would change it twice, and the search is an error that says what to write.
#[differentiate]
fn first_above(x: &[f64], t: f64) -> f64 {
    let mut seen = 0;
    match x
        .iter()
        .map(|v| {
            seen += 1;
            v * t
        })
        .find(|&v| v > 1.0)
    {
        Some(v) => v * t + seen as f64,
        None => t,
    }
}

fn main() {
    let _ = first_above_grad(&[0.3, 1.2], 0.5);
}
