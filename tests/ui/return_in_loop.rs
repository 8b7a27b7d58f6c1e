use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    for _i in 0..10 {
        y = y * x;
        if y > 100.0 {
            return y;
        }
    }
    y
}

fn main() {
    let _ = f_grad(1.0);
}
