use autodiff::differentiate;

#[differentiate]
fn phase(x: f64) -> f64 {
    x * x
}

#[differentiate]
fn f(x: f64) -> f64 {
    // A call's result: its float type is not seen.
    (phase(x) % 1.0) * 2.0
}

fn main() {
    let _ = f_grad(1.5);
}
