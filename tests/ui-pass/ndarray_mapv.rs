// A closure mapped over the elements of a differentiated array, and one over an inactive array.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate(wrt(a))]
fn f(a: &Array1<f64>, mask: &Array1<f64>) -> f64 {
    // On an inactive array, a closure just runs.
    let m = mask.mapv(|v| if v > 0.5 { 1.0 } else { 0.0 });
    let r = a.mapv(|v| v.max(0.0));
    (&r * &m).sum()
}

fn main() {
    let a = Array1::from(vec![1.0, -2.0]);
    let _ = f_grad(&a, &a);
}
