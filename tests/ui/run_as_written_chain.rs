use autodiff::differentiate;
use ndarray::{Array1, array};

// The first `fold` (a fold whose result depends on the order of the elements, which is not
// followed) reads the differentiated `w` and feeds only the second, which reads no
// differentiated value but feeds the result: the chain still carries `w` to the result.
#[differentiate(wrt(w))]
fn f(w: &Array1<f64>, u: &Array1<f64>) -> f64 {
    let w2 = w * 2.0;
    let a = w2.fold(0.0, |acc, &v| 0.5 * acc + v);
    let u2 = u * 1.0;
    u2.fold(a, |acc, &v| 0.5 * acc * v)
}

fn main() {
    let _ = f_grad(&array![1.0, 2.0], &array![3.0, 0.5]);
}
