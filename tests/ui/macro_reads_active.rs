// `dbg!(x)` returns `x`, but the macro cannot see that: the gradient would silently be 0.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let z: f64 = dbg!(x);
    z * 2.0
}

fn main() {
    let _ = f_grad(1.0);
}
