// A `return` inside an `if` that is an operand of an expression.
use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    let y = x * if x > 1.0 { return x } else { 2.0 };
    y
}

fn main() {
    let _ = f_grad(1.0);
}
