use autodiff::differentiate;

#[differentiate]
fn f(x: f64, y: impl Into<f64>) -> f64 {
    x * y.into()
}

fn main() {}
