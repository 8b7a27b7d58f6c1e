// Iterating by mutable reference is followed in `for` loops (and `for_each`) over a variable
// (also kept in a variable first, `let it = v.iter_mut(); for e in it`) and over a field or a
// row of one (`v[0].iter_mut()`); over something that is not a place, a copy made there, it is
// not; nor is an item passed on to a function that may write through it.
use autodiff::differentiate;

#[differentiate]
fn g(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for e in x.to_vec().iter_mut() {
        *e *= 2.0;
        s += *e;
    }
    s
}

fn scale(e: &mut f64) {
    *e *= 2.0;
}

#[differentiate]
fn h(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    for e in v.iter_mut() {
        scale(e);
    }
    v[0]
}

fn main() {
    let _ = g_grad(&[1.0]);
    let _ = h_grad(&[1.0]);
}
