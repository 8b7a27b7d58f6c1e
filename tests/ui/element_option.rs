// `first`, `last` and `get` are followed where the element is taken out of the `Option` at once
// (`*v.last().unwrap()`); an `Option` of a differentiated element kept as a value is not. They
// read the vector: declared `mut`, it is not reported as changed.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.push(1.0);
    let last = v.last().unwrap_or(&0.0);
    let second = v.get(1).map_or(0.0, |e| *e);
    last + second
}

fn main() {
    let _ = f_grad(&[1.0]);
}
