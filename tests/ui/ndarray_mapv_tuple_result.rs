// A closure over array elements is differentiated per element when it returns a float; a tuple
// result is reported at the closure's method with what to write instead.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate]
fn f(a: &Array1<f64>) -> f64 {
    let pairs = a.mapv(|v| (v.sin(), v.cos()));
    pairs[0].0 + a.sum()
}

fn main() {
    let _ = f_grad(&Array1::ones(2));
}
