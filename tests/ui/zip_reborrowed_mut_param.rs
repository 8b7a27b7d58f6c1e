use autodiff::differentiate;
use ndarray::{Array1, Zip};

// A `&mut` parameter reborrowed for `Zip` after another producer: run as written, which the
// gradient could not see, so it is an error.
#[differentiate]
fn f(c: &mut Array1<f64>, g: &Array1<f64>) -> f64 {
    Zip::from(g).and(&mut *c).for_each(|&x, o| *o = *o * x);
    c.sum()
}

fn main() {
    let mut c = Array1::from(vec![1.0, 2.0]);
    let g = c.clone();
    let _ = f_grad(&mut c, &g);
}
