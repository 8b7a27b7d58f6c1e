use autodiff::differentiate;
use ndarray::{Array2, Axis, s};

// A region changed by another method than `assign`, `mapv_inplace` and `fill` (`swap`,
// `invert_axis`, an element written through a bound view): the message says to assign the
// region's new values in one statement.
#[differentiate]
fn zero_first_row(a: &Array2<f64>) -> f64 {
    let mut b = a.clone();
    b.row_mut(0).swap(0, 1);
    b.slice_mut(s![1.., ..]).invert_axis(Axis(1));
    let mut c = a.clone();
    let mut r = c.row_mut(0);
    r[0] = a[[1, 0]];
    (&b * &c).sum()
}

fn main() {
    let a = Array2::<f64>::zeros((2, 2));
    let _ = zero_first_row_grad(&a);
}
