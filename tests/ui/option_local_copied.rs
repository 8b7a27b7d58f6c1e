use autodiff::differentiate;

// A best-so-far `Option<f64>` copied whole (`let seen = best;`): the rewrite of local
// `Option`s leaves it as written, and the one error is at the copy, not at `is_none_or` or
// `unwrap` (uses that are followed, whose errors advised an index loop and listed `unwrap`).
#[differentiate]
fn best_scaled(xs: &[f64], k: f64) -> f64 {
    let mut best: Option<f64> = None;
    for &x in xs {
        let seen = best;
        if seen.is_some() && best.is_none_or(|b| x * k > b) {
            best = Some(x * k);
        }
    }
    best.unwrap()
}

fn main() {}
