use autodiff::differentiate;

#[differentiate]
fn f(x: f64, mut flags: u32) -> f64 {
    flags |= 1;
    x * flags as f64
}

fn main() {
    let _ = f_grad(1.0, 2);
}
