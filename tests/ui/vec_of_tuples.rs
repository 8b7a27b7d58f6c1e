use autodiff::differentiate;

// A `Vec` of tuples that hold an index beside a differentiated value: the error says to keep
// two `Vec`s or make every component a float.
#[differentiate]
fn f(x: &[f64]) -> f64 {
    let pts: Vec<(usize, f64)> = x.iter().enumerate().map(|(i, &v)| (i, v * v)).collect();
    pts.iter().map(|&(i, b)| i as f64 * b).sum()
}

fn main() {
    let _ = f_grad(&[1.0, 2.0, 3.0, 4.0]);
}
