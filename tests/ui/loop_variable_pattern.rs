use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    for ref i in 0..3 {
        y = y * x + *i as f64;
    }
    y
}

fn main() {
    let _ = f_grad(1.0);
}
