use autodiff::differentiate;

// A local `Option<f64>` used in a way its rewrite does not follow (`replace`): the error names
// the `Option` and the uses that are followed, not the mutations of a container.
#[differentiate]
fn swaps(xs: &[f64]) -> f64 {
    let mut last: Option<f64> = None;
    let mut total = 0.0;
    for &x in xs {
        if let Some(p) = last.replace(x * 2.0) {
            total += p * x;
        }
    }
    total
}

fn main() {}
