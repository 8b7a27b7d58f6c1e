use autodiff::differentiate;

#[differentiate]
fn f(x: &[f64]) -> f64 {
    let halves: (Vec<f64>, Vec<f64>);
    halves = x.iter().map(|v| (0.5 * v, v * v)).unzip();
    halves.0[0] + halves.1[1]
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
