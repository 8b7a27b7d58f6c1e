use autodiff::differentiate;

// A type parameter without a float bound, in a differentiated parameter: its derivative is not
// known. (Left out with `wrt(x)`, the same function differentiates.)
#[differentiate]
fn f<T: Into<f64>>(x: f64, scale: T) -> f64 {
    x * scale.into()
}

// A parameter struct generic over its whole type rather than its float type.
#[differentiate]
fn g<P: autodiff::Differentiable>(x: f64, p: &P) -> f64 {
    x * x
}

// A result of such a type.
#[differentiate]
fn h<S: Copy>(x: f64, s: S) -> (f64, S) {
    (x * x, s)
}

fn main() {
    // The generated items exist (as placeholders), so callers see no second error.
    let _ = f_grad(1.0, 2.0f32);
    let _ = g_grad(1.0, &0.5);
    let _ = h_vjp(1.0, 3);
}
