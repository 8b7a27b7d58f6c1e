// Iterating by mutable reference is followed in `for` loops (and `for_each`) over a variable;
// an iterator kept as a value, or over something that is not a variable, is not.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let it = v.iter_mut();
    for e in it {
        *e *= 2.0;
    }
    v[0]
}

#[differentiate]
fn g(x: &[f64]) -> f64 {
    let mut v = vec![x.to_vec()];
    for e in v[0].iter_mut() {
        *e *= 2.0;
    }
    v[0][0]
}

fn main() {
    let _ = f_grad(&[1.0]);
    let _ = g_grad(&[1.0]);
}
