use autodiff::differentiate;

#[differentiate]
fn halvings(x: f64) -> f64 {
    std::iter::successors(Some(x), |&v| Some(v * 0.5)).take(4).sum()
}

#[differentiate]
fn parts(x: &[f64]) -> f64 {
    let (a, b): (Vec<f64>, Vec<f64>) = x.iter().partition(|&&v| v > 0.0);
    a.iter().sum::<f64>() - b.iter().map(|v| v * v).sum::<f64>()
}

fn main() {
    let _ = halvings_grad(1.0);
    let _ = parts_grad(&[1.0]);
}
