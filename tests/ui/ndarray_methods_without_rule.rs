// ndarray methods without a derivative rule whose work a followed form does: the message
// names that form (it was the generic one, about methods of the user's structs and writing a
// `_vjp`).
use autodiff::differentiate;
use ndarray::{Array1, Array2, Axis, Slice};

#[differentiate]
fn middle_rows(x: &Array2<f64>) -> f64 {
    let s = Slice::new(1, Some(3), 1);
    x.slice_axis(Axis(0), s).sum()
}

#[differentiate]
fn halves(x: &Array2<f64>) -> f64 {
    let (top, bottom) = x.view().split_at(Axis(0), 1);
    top.sum() * bottom.sum()
}

#[differentiate]
fn norm(x: &Array1<f64>) -> f64 {
    x.mapv(|v| v * v).sum_axis(Axis(0)).into_scalar().sqrt()
}

fn main() {
    let m = Array2::from_elem((3, 2), 1.0);
    let v = Array1::from(vec![1.0, 2.0]);
    let _ = middle_rows_grad(&m);
    let _ = halves_grad(&m);
    let _ = norm_grad(&v);
}
