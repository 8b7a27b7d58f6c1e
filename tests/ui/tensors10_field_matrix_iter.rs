use autodiff::{Differentiable, differentiate};
use ndarray::Array2;

#[derive(Clone, Differentiable)]
struct P {
    w: Array2<f64>,
}

// A field's type is not seen: its elements are iterated as a vector's, and the check at the
// field says to write `p.w.flatten().iter()` for a matrix.
#[differentiate]
fn f(p: &P) -> f64 {
    p.w.iter().map(|v| v * v).sum::<f64>()
}

fn main() {
    let p = P {
        w: Array2::zeros((2, 2)),
    };
    let _ = f_grad(&p);
}
