use autodiff::differentiate;

fn spread(w: &[f64]) -> f64 {
    w[1] - w[0]
}

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(2) {
        s += spread(w);
    }
    s
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
