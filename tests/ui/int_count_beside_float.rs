// A count made by an iterator chain or by a counter in a loop is an integer, as Rust types it:
// dividing a float by it is one error that says to convert it (it was rustc's error and three
// more from the generated code).
use autodiff::differentiate;

#[differentiate]
fn mean_above(x: f64, xs: &[f64]) -> f64 {
    let n = xs.iter().filter(|v| **v > x).count();
    xs.iter().sum::<f64>() / n
}

#[differentiate]
fn share(x: f64, xs: &[f64]) -> f64 {
    let mut c = 0;
    for v in xs {
        if *v > x {
            c += 1;
        }
    }
    let m = if x > 0.0 { c } else { 1 };
    x / m
}

fn main() {}
