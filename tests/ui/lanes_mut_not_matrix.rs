use autodiff::differentiate;
use ndarray::Array3;

// The rows of an array of three axes are not its outer lanes.
#[differentiate]
fn doubled(a: &Array3<f64>) -> f64 {
    let mut m = a.clone();
    for mut row in m.rows_mut() {
        row *= 2.0;
    }
    m.sum()
}

fn main() {
    let _ = doubled_grad(&Array3::zeros((2, 2, 2)));
}
