// `kinks = exact` decides the kinks of scalars: `abs` of an array, or the elementwise norm
// `(dx * dx + dy * dy).sqrt()`, is an error of the macro that says so (it was the runtime's
// bound among rustc's errors from inside the generated code). A smooth elementwise `sqrt`,
// `(a + 1.0).sqrt()`, is differentiated as in the default mode.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate(kinks = exact)]
fn l1(a: &Array1<f64>) -> f64 {
    a.abs().sum()
}

#[differentiate(kinks = exact)]
fn total_distance(dx: &Array1<f64>, dy: &Array1<f64>) -> f64 {
    (dx * dx + dy * dy).sqrt().sum()
}

#[differentiate(kinks = exact)]
fn smooth(a: &Array1<f64>) -> f64 {
    (a + 1.0).sqrt().sum()
}

fn main() {
    let _ = smooth_grad(&Array1::zeros(2));
}
