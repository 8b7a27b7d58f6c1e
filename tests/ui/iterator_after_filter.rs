use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let s: f64 = x
        .iter()
        .filter(|v| **v > 0.0)
        .enumerate()
        .map(|(i, v)| i as f64 * v)
        .sum();
    s
}

fn main() {
    let _ = f_grad(&[1.0]);
}
