use autodiff::differentiate;
use ndarray::{Array1, ArrayViewMut1};

#[differentiate]
fn scale_into(mut out: ArrayViewMut1<'_, f64>, k: f64) -> f64 {
    out *= k;
    out.sum()
}

fn main() {
    let mut a = Array1::<f64>::zeros(3);
    let _ = scale_into_grad(a.view_mut(), 2.0);
}
