// After an error the macro still emits the original function and stubs of `f_grad`/`f_vjp`
// with the right signatures, so every use of them type-checks: the only error is the real one.
use autodiff::differentiate;

#[differentiate]
pub fn f(x: f64, y: f64, n: usize) -> f64 {
    let g = x.midpoint(y);
    g * n as f64
}

fn main() {
    let (value, (dx, dy)): (f64, (f64, f64)) = f_grad(1.0, 2.0, 3);
    let (_, pullback) = f_vjp(1.0, 2.0, 3);
    let (ex, ey): (f64, f64) = pullback(1.0);
    println!("{} {dx} {dy} {ex} {ey} {value}", f(1.0, 2.0, 3));
}
