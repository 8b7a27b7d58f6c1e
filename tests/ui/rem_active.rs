use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    (x % 1.0) * 2.0
}

fn main() {
    let _ = f_grad(1.5);
}
