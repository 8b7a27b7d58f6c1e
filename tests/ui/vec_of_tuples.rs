use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let pts: Vec<(f64, f64)> = x.chunks(2).map(|c| (c[0], c[1])).collect();
    pts.iter().map(|&(a, b)| a * b).sum()
}

fn main() {
    let _ = f_grad(&[1.0, 2.0, 3.0, 4.0]);
}
