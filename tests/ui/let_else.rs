use autodiff::differentiate;

#[differentiate]
fn f(x: f64, k: Option<u32>) -> f64 {
    let Some(n) = k else {
        return x;
    };
    x * n as f64
}

fn main() {
    let _ = f_grad(1.0, Some(2));
}
