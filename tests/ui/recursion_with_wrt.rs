use autodiff::differentiate;

// A function that calls itself is differentiated with respect to all of its float
// parameters (the inner call's gradient has an entry for each); with `wrt(x)` leaving out the
// coefficients, one error at the call says to put `wrt` on a function that calls it.
#[differentiate(wrt(x))]
fn horner(c: &[f64], x: f64) -> f64 {
    if c.is_empty() { 0.0 } else { c[0] + x * horner(&c[1..], x) }
}

fn main() {
    let _ = horner_grad(&[1.0, 2.0], 0.5);
}
