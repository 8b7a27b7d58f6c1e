use autodiff::differentiate;
use ndarray::{Array2, Zip};

// `Zip::fold` visits the elements in memory order where the producers share a layout
// (column-major for transposed views): a fold whose result depends on the order would be
// followed in another order than the plain function's, so it is an error that says to zip
// iterators, which visit the elements in row-major order.
#[differentiate]
fn discounted(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    Zip::from(a.t())
        .and(b.t())
        .fold(0.0, |acc, &p, &q| acc * 0.5 + p * q)
}

fn main() {
    let a = Array2::<f64>::zeros((2, 3));
    let _ = discounted_grad(&a, &a);
}
