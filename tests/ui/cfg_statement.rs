use autodiff::differentiate;

// The generated functions would run both `let`s: an error, with `cfg!(..)` as the way.
#[differentiate]
fn scaled(x: f64) -> f64 {
    #[cfg(debug_assertions)]
    let w = 1.0;
    #[cfg(not(debug_assertions))]
    let w = 2.0;
    w * x
}

fn main() {
    let _ = scaled_grad(3.0);
}
