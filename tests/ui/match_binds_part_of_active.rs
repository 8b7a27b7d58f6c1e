use autodiff::differentiate;

#[differentiate]
fn f(x: f64, n: u32) -> f64 {
    match (x, n) {
        (v, 0) => v,
        _ => x * 2.0,
    }
}

fn main() {
    let _ = f_grad(1.0, 0);
}
