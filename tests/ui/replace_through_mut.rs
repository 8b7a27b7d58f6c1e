// What a `&mut` array parameter holds can change in place (`*c += &b`, `c.assign(&b)`, element
// writes); replacing it whole is not followed, and the error says how to overwrite it.
use autodiff::differentiate;
use ndarray::Array1;

#[differentiate]
fn f(c: &mut Array1<f64>, b: &Array1<f64>) -> f64 {
    *c = b * 2.0;
    c.sum()
}

fn main() {
    let mut c = Array1::zeros(2);
    let _ = f_grad(&mut c, &Array1::ones(2));
}
