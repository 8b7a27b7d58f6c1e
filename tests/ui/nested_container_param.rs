use autodiff::differentiate;

#[differentiate]
fn f(w: &Vec<Vec<f64>>, x: &[f64]) -> f64 {
    w[0][0] * x[0]
}

fn main() {
    let _ = f_grad(&vec![vec![1.0]], &[2.0]);
}
