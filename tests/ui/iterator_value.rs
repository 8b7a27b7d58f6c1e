use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let doubled = x.iter().map(|v| v * 2.0);
    let mut s = 0.0;
    for v in doubled {
        s += v;
    }
    s
}

fn main() {
    let _ = f_grad(&[1.0]);
}
