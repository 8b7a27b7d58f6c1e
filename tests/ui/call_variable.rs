use autodiff::differentiate;

#[differentiate(wrt(x))]
fn f(x: f64, g: fn(f64) -> f64) -> f64 {
    g(x) * 2.0
}

fn main() {
    let _ = f_grad(1.0, f64::sin);
}
