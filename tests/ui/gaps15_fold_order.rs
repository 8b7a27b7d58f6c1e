use autodiff::differentiate;
use ndarray::Array2;

// A fold whose result depends on the order of the elements: ndarray visits a transposed
// array's elements in memory order.
#[differentiate]
fn discounted(w: &Array2<f64>) -> f64 {
    let a = w.t();
    a.fold(0.0, |m, &v| 0.5 * m + v)
}

fn main() {
    let _ = discounted_grad(&Array2::zeros((2, 2)));
}
