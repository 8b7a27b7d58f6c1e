use autodiff::differentiate;

#[differentiate(foo)]
fn f(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = f_grad(1.0);
}
