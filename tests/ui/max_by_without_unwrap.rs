use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    match x.iter().copied().max_by(|a, b| a.total_cmp(b)) {
        Some(m) => m,
        None => 0.0,
    }
}

fn main() {
    let _ = f_grad(&[1.0]);
}
