use autodiff::differentiate;

// An iterator kept in a variable is written where it is used, unless a name it reads changes
// in between: here the count `k` given to `skip` is changed after the iterator is made.
#[differentiate]
fn f(x: &[f64]) -> f64 {
    let mut k = 1;
    let rest = x.iter().skip(k).map(|v| v * 2.0);
    k += 1;
    let mut s = 0.0;
    for v in rest {
        s += v;
    }
    s * k as f64
}

fn main() {
    let _ = f_grad(&[1.0]);
}
