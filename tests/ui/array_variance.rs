use autodiff::differentiate;
use ndarray::Array1;

// ndarray's `var` and `std` have no rule: the message writes them out.
#[differentiate]
fn f(x: &Array1<f64>) -> f64 {
    x.var(1.0) + x.std(0.0)
}

fn main() {}
