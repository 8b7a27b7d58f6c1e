use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        let v = w.repeat(2);
        s += v[3] - v[0];
    }
    s
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
