use autodiff::differentiate;

// A slice of `Option`s has no gradient type: naming it in `wrt` says to take floats and mark
// the ones present apart.
#[differentiate(wrt(u, ratings))]
fn observed(u: f64, ratings: &[Option<f64>]) -> f64 {
    let mut l = 0.0;
    for r in ratings.iter().flatten() {
        l += (u - r) * (u - r);
    }
    l
}

fn main() {
    let _ = observed_grad(1.0, &[Some(0.5), None]);
}
