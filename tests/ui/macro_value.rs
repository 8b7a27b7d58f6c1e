use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let s = format!("{x:.3}");
    x * s.len() as f64
}

fn main() {
    let _ = f_grad(1.0);
}
