use autodiff::differentiate;
use ndarray::Array2;

// A `continue` would skip writing the changed row back.
#[differentiate]
fn clipped(a: &Array2<f64>) -> f64 {
    let mut m = a.clone();
    for mut row in m.rows_mut() {
        if row[0] > 0.0 {
            continue;
        }
        row *= 2.0;
    }
    m.sum()
}

fn main() {
    let _ = clipped_grad(&Array2::zeros((2, 2)));
}
