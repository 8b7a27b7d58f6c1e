use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    x.div_euclid(2.0) * x
}

fn main() {
    let _ = f_grad(1.0);
}
