use autodiff::differentiate;

fn apply(g: impl Fn(f64) -> f64, x: f64) -> f64 {
    g(x)
}

#[differentiate]
fn f(x: f64) -> f64 {
    let y = apply(|t: f64| t * t, x);
    y * 2.0
}

fn main() {
    let _ = f_grad(1.0);
}
