use autodiff::differentiate;

#[differentiate]
fn f(x: f64, y: f64) -> f64 {
    let r = if x > y { &x } else { &y };
    *r * 2.0
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
