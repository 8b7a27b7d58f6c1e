use autodiff::differentiate;
use ndarray::Array1;

// The product of a local array whose element type is not written.
#[differentiate]
fn scaled_product(x: &Array1<f64>, s: f64) -> f64 {
    let a = x * s;
    a.product() * s
}

fn main() {
    let _ = scaled_product_grad(&Array1::zeros(2), 1.0);
}
