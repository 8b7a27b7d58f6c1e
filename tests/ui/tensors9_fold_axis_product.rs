use autodiff::differentiate;
use ndarray::{Array2, Axis};

// `fold_axis` is followed for the extrema along an axis (`a.max(b)`, `a.min(b)`) and for sums
// (`acc + f(v)`); another closure, a product here, is the error that names them.
#[differentiate]
fn row_products(x: &Array2<f64>) -> f64 {
    let p = x.fold_axis(Axis(1), 1.0, |&a, &b| a * b);
    p.sum()
}

fn main() {
    let _ = row_products_grad(&Array2::zeros((2, 2)));
}
