use autodiff::differentiate;
use ndarray::{Array1, Array2};

// Writes through a view held in a local ran as written: right values, a gradient of 0.
#[differentiate]
fn halves(x: &[f64]) -> f64 {
    let mut b = [0.0; 4];
    let (lo, hi) = b.split_at_mut(2);
    lo[0] += x[0];
    hi[0] += x[1] * x[1];
    b[0] + b[2]
}

#[differentiate]
fn through_a_slice(x: &[f64]) -> f64 {
    let mut b = vec![0.0; 2];
    let r = b.as_mut_slice();
    r[0] = x[0] * x[1];
    b[0]
}

#[differentiate]
fn first_chunk(x: &[f64]) -> f64 {
    let mut b = vec![0.0; 4];
    let mut it = b.chunks_mut(2);
    let c = it.next().unwrap();
    c[0] = x[0] * x[1];
    b[0]
}

#[differentiate]
fn a_row(x: &Array1<f64>) -> f64 {
    let mut a = Array2::<f64>::zeros((2, 2));
    let mut r = a.row_mut(0);
    r[0] = x[0] * x[1];
    a[[0, 0]]
}

fn main() {
    let _ = halves_grad(&[1.0, 2.0]);
    let _ = through_a_slice_grad(&[1.0, 2.0]);
    let _ = first_chunk_grad(&[1.0, 2.0]);
    let _ = a_row_grad(&Array1::zeros(2));
}
