use autodiff::differentiate;

// A local `Option<f64>` used in a way its rewrite does not follow (`replace` as a `match`'s
// scrutinee): the error names the `Option` and the uses that are followed, not the mutations
// of a container.
#[differentiate]
fn swaps(xs: &[f64]) -> f64 {
    let mut last: Option<f64> = None;
    let mut total = 0.0;
    for &x in xs {
        match last.replace(x * 2.0) {
            Some(p) => total += p * x,
            None => {}
        }
    }
    total
}

fn main() {}
