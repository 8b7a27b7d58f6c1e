use autodiff::differentiate;

// A slice pattern with a range in it is not one of the followed forms (names, `_`, `..`,
// literals).
#[differentiate]
fn f(xs: &[f64]) -> f64 {
    match xs {
        [0.0..=1.0, b] => b * 2.0,
        [a, b] => a * b,
        _ => 0.0,
    }
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
