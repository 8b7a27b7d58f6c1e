use autodiff::differentiate;

// The projection keeps the item, not the enumeration's index: its value is differentiated, and
// an `Option` of it cannot be.
#[differentiate]
fn largest(xs: &[f64]) -> f64 {
    xs.iter()
        .enumerate()
        .max_by(|a, b| a.1.partial_cmp(b.1).unwrap())
        .map(|(_, v)| *v)
        .unwrap()
}

fn main() {}
