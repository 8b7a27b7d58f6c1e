use autodiff::differentiate;

// Adapters the derivative does not follow are named, with what to write instead, rather than
// the chain's consumer.
#[differentiate]
fn running(x: &[f64]) -> f64 {
    x.iter()
        .scan(0.0, |acc, &v| {
            *acc += v;
            Some(*acc)
        })
        .map(|c| c * c)
        .sum::<f64>()
}

#[differentiate]
fn pairs(x: &[f64]) -> f64 {
    let n = x.len();
    (0..n).flat_map(|i| (0..n).map(move |j| x[i] * x[j])).sum::<f64>()
}

fn main() {
    let _ = running_grad(&[1.0]);
    let _ = pairs_grad(&[1.0]);
}
