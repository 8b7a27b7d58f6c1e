use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        let v = w.to_vec();
        s += v[1] - v[0];
    }
    s
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
