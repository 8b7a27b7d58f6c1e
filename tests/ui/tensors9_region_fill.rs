use autodiff::differentiate;
use ndarray::{Array2, s};

// A region changed by another method than `assign` (`fill`, `+=` through a bound view): the
// message says to assign the region's new values in one statement.
#[differentiate]
fn zero_first_row(a: &Array2<f64>) -> f64 {
    let mut b = a.clone();
    b.row_mut(0).fill(0.0);
    b.slice_mut(s![1.., ..]).fill(1.0);
    let mut c = a.clone();
    let mut r = c.row_mut(0);
    r.assign(&a.row(1));
    (&b * &c).sum()
}

fn main() {
    let a = Array2::<f64>::zeros((2, 2));
    let _ = zero_first_row_grad(&a);
}
