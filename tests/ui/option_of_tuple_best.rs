use autodiff::differentiate;

// A best index beside its cost kept in an `Option` of a tuple: no rewrite takes it apart, and
// the error says to keep the parts in variables of their own (`let mut best_i = 0; let mut
// best: Option<f64> = None;`, which is followed).
#[differentiate]
fn best_cost(x: &[f64], t: f64) -> f64 {
    let mut best: Option<(usize, f64)> = None;
    for (i, &v) in x.iter().enumerate() {
        let c = (v - t).powi(2);
        if best.map_or(true, |(_, b)| c < b) {
            best = Some((i, c));
        }
    }
    best.map(|(_, c)| c).unwrap_or(0.0)
}

fn main() {
    let _ = best_cost_grad(&[0.5, 1.5], 0.9);
}
