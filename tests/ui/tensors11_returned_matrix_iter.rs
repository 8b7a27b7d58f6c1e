use autodiff::differentiate;
use ndarray::Array2;

#[differentiate]
fn affine(x: &Array2<f64>, w: &Array2<f64>) -> Array2<f64> {
    x.dot(w).mapv(f64::tanh)
}

// The macro does not see the type of what `affine` returns: its elements are iterated as a
// vector's, and the check says to write `h.flatten().iter()` or to declare `h` with its type.
#[differentiate(wrt(w))]
fn f(x: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let h = affine(x, w);
    h.iter().map(|v| v * v).sum::<f64>()
}

fn main() {
    let x = Array2::zeros((2, 2));
    let _ = f_grad(&x, &x);
}
