// A `&mut` parameter left out of `wrt` and passed on as it is to a function that a
// differentiated value reaches: the callee may write a value depending on it there, which the
// read after it would see without its derivative. (Where nothing differentiated reaches the
// call, a generator's `fill_noise(rng, &mut noise)`, it runs as written.)
use autodiff::differentiate;

#[differentiate]
fn fill(x: f64, out: &mut [f64]) {
    for o in out.iter_mut() {
        *o = x * x;
    }
}

#[differentiate(wrt(x))]
fn loss(x: &[f64], scratch: &mut Vec<f64>) -> f64 {
    fill(x[0], scratch);
    scratch[0] + scratch[1]
}

fn main() {
    let mut s = vec![0.0; 2];
    let _ = loss_grad(&[0.5], &mut s);
}
