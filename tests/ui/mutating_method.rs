// A mutation the derivative does not follow, on a place that holds differentiated values: an
// error even where the method's result is unused (ignoring it would silently lose the
// derivative of what it moves or stores).
use autodiff::differentiate;

#[differentiate]
fn r(x: f64, out: &mut Vec<f64>) -> f64 {
    out.push(x * x);
    out.dedup();
    out[0] * 3.0
}

#[differentiate]
fn s(x: f64) -> f64 {
    let mut h = [0.0; 2];
    h[0] = x;
    h[1] = 2.0 * x;
    h.rotate_left(1);
    h[0] * 3.0
}

fn main() {
    let mut v = Vec::new();
    let _ = r_grad(1.5, &mut v);
    let _ = s_grad(1.5);
}
