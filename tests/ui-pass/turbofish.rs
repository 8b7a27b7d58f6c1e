//! Methods with a turbofish run as written on inactive values; `sum::<f64>()` and
//! `collect::<Vec<_>>()` on chains of differentiated values are differentiated.
use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64], s: &str) -> f64 {
    let n = s.parse::<u32>().unwrap_or(1);
    let t = x.iter().map(|v| v * v).sum::<f64>();
    let v = x.iter().map(|v| v.sin()).collect::<Vec<_>>();
    t * n as f64 + v[0]
}

fn main() {
    let (y, d) = f_grad(&[1.0, 2.0], "3");
    assert_eq!(y, 15.0 + 1f64.sin());
    assert_eq!(d, vec![6.0 + 1f64.cos(), 12.0]);
}
