use autodiff::differentiate;

// A chain of tests that takes a local `Option<f64>` apart, whose `else` reads an outer `p`
// that the pattern's `p` would hide once the chain is the `if let` holding an `if`: the
// `Option`'s error, which says what to write.
#[differentiate]
fn f(x: &[f64]) -> f64 {
    let p = 2.0;
    let mut prev: Option<f64> = None;
    let mut s = 0.0;
    for &v in x {
        if let Some(p) = prev
            && p > v
        {
            s += p * v;
        } else {
            s += p;
        }
        prev = Some(v);
    }
    s
}

fn main() {
    let _ = f_grad(&[1.0, 2.0]);
}
