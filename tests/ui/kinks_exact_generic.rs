use autodiff::differentiate;

// Exact mode decides the kinks of `f64` and `f32`; a function generic over its float type is
// an error at the type parameter, not rustc's errors inside the generated code.
#[differentiate(kinks = exact)]
fn gabs<T: num_traits::Float>(x: T) -> T {
    x.abs()
}

fn main() {
    let _ = gabs_grad(0.0f64);
}
