// A helper writing into its caller's buffer is followed where the buffer is a `mut` variable
// (`fill(x, &mut y)`); a part of one (`&mut y[1..]`) is not. A `return` inside a loop of such
// a helper cannot give the buffer back.
use autodiff::differentiate;

#[differentiate]
fn fill(x: f64, out: &mut [f64]) {
    for o in out.iter_mut() {
        *o = x * x;
    }
}

#[differentiate]
fn f(x: f64) -> f64 {
    let mut y = vec![0.0; 3];
    fill(x, &mut y[1..]);
    y[0] + y[2]
}

#[differentiate]
fn first_positive(x: &[f64], out: &mut [f64]) {
    for i in 0..x.len() {
        if x[i] > 0.0 {
            out[0] = x[i];
            return;
        }
    }
}

fn main() {
    let _ = f_grad(1.0);
    let mut o = [0.0];
    first_positive(&[1.0], &mut o);
}
