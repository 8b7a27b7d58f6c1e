use autodiff::differentiate;

// A reference from `last_mut()` is the element it names, except where a macro reads it (its
// tokens are not rewritten): then the write through it keeps the macro's own error.
#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let a = v.last_mut().unwrap();
    *a *= 2.0;
    assert!(a.is_finite());
    v.iter().sum()
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
