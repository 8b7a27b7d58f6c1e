use autodiff::differentiate;

// A `break` in a `for` loop over a `chain` would leave only the loop of the part it is in.
#[differentiate]
fn f(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x.iter().chain(y.iter()) {
        if *v > 1.0 {
            break;
        }
        s += v;
    }
    s
}

fn main() {
    let _ = f_grad(&[1.0], &[2.0]);
}
