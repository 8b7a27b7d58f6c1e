use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    v[1..].fill_with(Default::default);
    v.iter().sum()
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
