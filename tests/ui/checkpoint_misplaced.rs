use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    #[checkpoint(snapshots = 2)]
    let y = x * x;
    y
}

fn main() {
    let _ = f_grad(1.0);
}
