use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64], w: f64) -> f64 {
    let last = x.iter().map(|v| v * w).nth(1).unwrap();
    let opt = x.last().copied().unwrap_or(0.0);
    last + opt
}

fn main() {
    let _ = f_grad(&[1.0], 2.0);
}
