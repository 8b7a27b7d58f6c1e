use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    if x > 0.0 {
        const SCALE: f64 = 2.0;
        y *= SCALE;
    }
    y
}

fn main() {
    let _ = f_grad(1.0);
}
