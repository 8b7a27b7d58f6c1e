use autodiff::differentiate;

#[derive(Debug)]
pub enum FitError {
    Mismatch(usize, usize),
}

// A loss that reports mismatched inputs as an error: the `Result` has no gradient type, and
// `Ok(s)` was taken for a call of a function `Ok` (rustc's "cannot find `Ok_vjp`"). Check the
// shapes before the call, or `assert!` them, and return the float.
#[differentiate(wrt(a))]
fn sse(a: f64, x: &[f64], y: &[f64]) -> Result<f64, FitError> {
    if x.len() != y.len() {
        return Err(FitError::Mismatch(x.len(), y.len()));
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        let r = a * x[i] - y[i];
        s += r * r;
    }
    Ok(s)
}

// The same through an alias of `Result` with one argument.
#[differentiate]
fn log_det(x: f64) -> std::io::Result<f64> {
    Ok(x.ln())
}

fn main() {}
