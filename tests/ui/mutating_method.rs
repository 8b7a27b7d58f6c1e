// `push` stores a differentiated value into a buffer the derivative does not follow: before this
// was an error, `r_grad(1.5, &mut v)` returned d/dx = 0 (the true value is 9).
use autodiff::differentiate;

#[differentiate]
fn r(x: f64, out: &mut Vec<f64>) -> f64 {
    out.push(x * x);
    out[0] * 3.0
}

// A mutating method on a local that holds differentiated values.
#[differentiate]
fn s(x: f64) -> f64 {
    let mut h = [0.0; 2];
    h[0] = x;
    h[1] = 2.0 * x;
    h.reverse();
    h[0] * 3.0
}

fn main() {
    let mut v = Vec::new();
    let _ = r_grad(1.5, &mut v);
    let _ = s_grad(1.5);
}
