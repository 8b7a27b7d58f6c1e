use autodiff::differentiate;

// The `Option` is used twice (tested, then unwrapped): it is not taken apart where it is made.
#[differentiate]
fn f(x: &[f64]) -> f64 {
    let best = x.iter().copied().max_by(|a, b| a.total_cmp(b));
    if best.is_some() { best.unwrap() } else { 0.0 }
}

fn main() {
    let _ = f_grad(&[1.0]);
}
