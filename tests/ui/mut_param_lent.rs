// A `&mut` parameter passed on as it is to another function may be written through by it,
// which the derivative cannot follow: the gradient would miss what the callee wrote.
use autodiff::differentiate;

#[differentiate]
fn fill(x: f64, out: &mut [f64]) {
    for o in out.iter_mut() {
        *o = x * x;
    }
}

#[differentiate]
fn loss(x: &[f64], scratch: &mut Vec<f64>) -> f64 {
    fill(x[0], scratch);
    scratch[0] + scratch[1]
}

fn main() {
    let mut s = vec![0.0; 2];
    let _ = loss_grad(&[0.5], &mut s);
}
