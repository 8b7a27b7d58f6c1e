use autodiff::differentiate;

// A parameter of tuples of an index and a float has no gradient type: the error says to pass
// two slices or leave the parameter out.
#[differentiate]
fn weighted(pts: &[(usize, f64)], w: f64) -> f64 {
    pts.iter().map(|&(i, x)| i as f64 * x * w).sum()
}

fn main() {
    let _ = weighted_grad(&[(0, 1.0), (1, 2.0)], 0.5);
}
