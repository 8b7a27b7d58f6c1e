use autodiff::differentiate;

#[differentiate]
fn f<T: Into<f64>>(x: f64, scale: T) -> f64 {
    x * scale.into()
}

fn main() {
    let _ = f_grad(1.0, 2.0f32);
}
