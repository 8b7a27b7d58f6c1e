use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    v[0]
}

fn main() {
    let _ = f_grad(&[1.0]);
}
