use autodiff::differentiate;

#[differentiate]
fn f(x: f64, n: usize) -> f64 {
    let mut s = 0.0;
    for i in (0..n).cycle().take(3 * n) {
        s += x * i as f64;
    }
    s
}

fn main() {
    let _ = f_grad(1.0, 10);
}
