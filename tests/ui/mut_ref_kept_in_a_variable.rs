use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let w = &mut v;
    w[0] *= 2.0;
    v.iter().sum()
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
