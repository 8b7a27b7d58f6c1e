use autodiff::differentiate;

#[differentiate]
fn f(n: usize, m: usize) -> f64 {
    (n * m) as f64
}

fn main() {
    let _ = f_grad(1, 2);
}
