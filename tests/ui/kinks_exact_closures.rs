use autodiff::differentiate;

// A comparator or predicate that code run as written calls on differentiated values decides a
// piece by its plain result: at a tie exact mode would not follow the direction. An error that
// says to write the search as a loop.
#[differentiate(kinks = exact)]
fn top(x: &[f64]) -> f64 {
    x.iter().cloned().max_by(|a, b| a.partial_cmp(b).unwrap()).unwrap()
}

#[differentiate(kinks = exact)]
fn positive_sum(x: &[f64]) -> f64 {
    x.iter().filter(|&&v| v > 0.0).sum::<f64>()
}

fn main() {
    let _ = top_grad(&[1.0, 1.0]);
    let _ = positive_sum_grad(&[0.0, 1.0]);
}
