use autodiff::differentiate;
use ndarray::Array2;

// A matrix carried by a loop is still a matrix: its `iter_mut()` is the same error as outside
// the loop, not rustc's "`usize: NdIndex<Dim<[usize; 2]>>`" inside the generated code.
#[differentiate]
fn f(a: &Array2<f64>) -> f64 {
    let mut b = a.clone();
    for _ in 0..3 {
        for v in b.iter_mut() {
            *v = v.tanh();
        }
    }
    b.sum()
}

fn main() {
    let _ = f_grad(&Array2::zeros((2, 2)));
}
