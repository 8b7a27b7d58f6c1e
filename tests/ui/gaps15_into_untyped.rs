use autodiff::differentiate;

fn square(y: f64) -> f64 {
    y * y
}

// `.into()` whose target type is not written where it is called.
#[differentiate]
fn widened(x: f32) -> f64 {
    square(x.into())
}

fn main() {
    let _ = widened_grad(1.0);
}
