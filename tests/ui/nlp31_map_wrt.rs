// A map of floats (a table of counts built outside) has no gradient type: it is data unless
// named in `wrt(..)`, where the error says to keep the floats in a `Vec` beside a map to
// their positions.
use autodiff::differentiate;
use std::collections::HashMap;

#[differentiate(wrt(alpha, counts))]
fn lidstone(alpha: f64, counts: &HashMap<String, f64>, word: &str) -> f64 {
    -(counts.get(word).copied().unwrap_or(0.0) + alpha).ln()
}

fn main() {
    let _ = lidstone_grad(0.5, &HashMap::new(), "a");
}
