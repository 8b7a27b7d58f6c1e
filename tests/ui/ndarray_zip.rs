use autodiff::differentiate;
use ndarray::{Array1, Zip};

#[differentiate]
fn f(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    let c = Zip::from(a).and(b).map_collect(|x, y| x * y);
    let mut d = Array1::zeros(a.len());
    // `Zip::from(&mut d)` with one `*o = ..` is followed; `&mut d` after another producer
    // runs as written.
    Zip::from(a).and(&mut d).for_each(|&x, o| *o = x * 2.0);
    c.sum() + d.sum()
}

fn main() {
    let a = Array1::from(vec![1.0, 2.0]);
    let _ = f_grad(&a, &a);
}
