use autodiff::differentiate;

// A reference from `last_mut()` is the element it names, also in a macro whose arguments are
// expressions (`assert!(a.is_finite(), "{a}")`), except where a macro's arguments are not
// expressions (a pattern, `matches!(*a, v if v > 0.0)`, not rewritten): then the write
// through it keeps its own error.
#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut v = x.to_vec();
    let a = v.last_mut().unwrap();
    *a *= 2.0;
    assert!(matches!(*a, v if v > 0.0));
    v.iter().sum()
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
