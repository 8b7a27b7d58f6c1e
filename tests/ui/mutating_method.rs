// Mutations the derivative does not follow, on places that hold differentiated values: each is
// an error even where the method's result is unused (ignoring it would silently lose the
// derivative of what it moves or stores), and each says what to write instead.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate]
fn r(x: f64, out: &mut Vec<f64>) -> f64 {
    out.push(x * x);
    out.dedup();
    out[0] * 3.0
}

#[differentiate]
fn s(x: f64) -> f64 {
    let mut v = vec![x, 2.0 * x, 3.0];
    v.drain(1..);
    v[0]
}

#[differentiate]
fn t(x: f64) -> f64 {
    let mut h = [0.0; 2];
    h[0] = x;
    h.as_mut_slice();
    h[0] * 3.0
}

#[differentiate]
fn u(a: &Array1<f64>, x: f64) -> f64 {
    let mut c = a.clone();
    c.view_mut();
    c.fill(x);
    c.sum()
}

fn main() {
    let mut v = Vec::new();
    let _ = r_grad(1.5, &mut v);
    let _ = s_grad(1.5);
    let _ = t_grad(1.5);
    let _ = u_grad(&Array1::zeros(2), 1.5);
}
