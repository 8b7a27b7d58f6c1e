use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = x;
    let mut i = 0;
    while {
        i += 1;
        i < 3
    } {
        y = y * x;
    }
    y
}

fn main() {
    let _ = f_grad(1.0);
}
