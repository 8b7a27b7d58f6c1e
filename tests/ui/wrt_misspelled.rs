// A misspelled name in `wrt(..)` is an error that names the parameter it resembles and lists
// the function's parameters.
use autodiff::differentiate;

#[differentiate(wrt(gain))]
fn amp(gian: f64, x: &[f64]) -> f64 {
    x.iter().map(|v| gian * v).sum()
}

fn main() {
    let _ = amp(1.0, &[2.0]);
}
