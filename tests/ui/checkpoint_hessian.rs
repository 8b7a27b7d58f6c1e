use autodiff::differentiate;

#[differentiate(hessian, checkpoint(snapshots = 8))]
fn f(x: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in 0..n {
        y = y.sin() * x;
    }
    y
}

#[differentiate(hessian)]
fn g(x: f64, n: usize) -> f64 {
    let mut y = x;
    #[checkpoint(snapshots = 8)]
    for _ in 0..n {
        y = y.sin() * x;
    }
    y
}

fn main() {
    let _ = f_hvp(1.0, 3, 1.0);
    let _ = g_hvp(1.0, 3, 1.0);
}
