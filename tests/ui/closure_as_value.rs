use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let sq = |t: f64| t * t;
    let g = sq;
    x * 2.0
}

fn main() {
    let _ = f_grad(1.0);
}
