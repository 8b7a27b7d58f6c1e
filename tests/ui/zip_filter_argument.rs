use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y.iter().filter(|v| **v > 0.0))
        .map(|(a, b)| a * b)
        .sum()
}

fn main() {
    let _ = f_grad(&[1.0], &[1.0]);
}
