use autodiff::differentiate;

#[differentiate]
fn det(x: &[f64]) -> f64 {
    let mut a = vec![vec![0.0; 2]; 2];
    a[0][0] = x[0];
    a[1][1] = x[1];
    a[0][0] * a[1][1]
}

fn main() {
    let _ = det_grad(&[1.0, 2.0]);
}
