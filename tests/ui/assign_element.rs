use autodiff::differentiate;

#[differentiate]
fn f(x: f64, mut counts: Vec<u32>) -> f64 {
    counts[0] = 1;
    x * counts[0] as f64
}

fn main() {
    let _ = f_grad(1.0, vec![0, 0]);
}
