use autodiff::differentiate;

#[differentiate]
fn f(x: f64, s: &str) -> f64 {
    let n = s.parse::<u32>().unwrap_or(1);
    x * n as f64
}

fn main() {
    let _ = f_grad(1.0, "2");
}
