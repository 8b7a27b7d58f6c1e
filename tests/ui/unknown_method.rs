use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    x.midpoint(2.0) * x
}

fn main() {
    let _ = f_grad(1.0);
}
