use autodiff::differentiate;

// `drain` inside an iterator chain the macro runs as written would drain a copy of `w`.
#[differentiate(wrt(x))]
fn tail_weight(x: f64, d: &[f64]) -> f64 {
    let mut w = d.to_vec();
    let old: Vec<f64> = w.drain(1..).collect();
    x * old[0] * w[0]
}

fn main() {
    let _ = tail_weight_grad(1.0, &[2.0, 3.0]);
}
