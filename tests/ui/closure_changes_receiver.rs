use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.retain_mut(|a| {
        *a *= 2.0;
        *a > 0.0
    });
    v[0]
}

fn main() {
    let _ = f_grad(&[1.0]);
}
