use autodiff::differentiate;

#[differentiate]
fn f(x: f64) -> f64 {
    <f64 as std::ops::Mul>::mul(x, x)
}

fn main() {
    let _ = f_grad(1.0);
}
