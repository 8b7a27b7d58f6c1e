// One call lending a fixed-size array and a `Vec` to two `&mut [T]` parameters: the helper's
// copy for arrays takes both as arrays, and rustc says so at the call.
use autodiff::differentiate;

#[differentiate]
fn halves_into(x: &[f64], a: &mut [f64], b: &mut [f64]) {
    a[0] = x[0] * x[0];
    b[0] = x[1] * x[0];
}

#[differentiate]
fn both(x: &[f64]) -> f64 {
    let mut a = [0.0; 1];
    let mut b = vec![0.0; 1];
    halves_into(x, &mut a, &mut b);
    a[0] + b[0]
}

fn main() {
    let _ = both_grad(&[1.0, 2.0]);
}
