// An integer literal beside a float (`2 * x` of `x: f64`, `acc += 1` of `acc = 0.0`) is one
// error that says to write the literal as a float, beside rustc's own on the function as
// written, instead of the many errors of the runtime's types the generated code made of it.
use autodiff::differentiate;

#[differentiate]
fn double(x: f64) -> f64 {
    2 * x
}

#[differentiate]
fn count(x: &[f64]) -> f64 {
    let mut acc = 0.0;
    acc += 1;
    acc * x[0]
}

#[differentiate]
fn square(x: f64) -> f64 {
    x.powi(2.0)
}

#[differentiate]
fn mean(x: &[f64]) -> f64 {
    let n = x.len();
    let s: f64 = x.iter().sum();
    s / n
}

fn main() {
    let _ = double_grad(1.0);
    let _ = count_grad(&[1.0]);
    let _ = square_grad(1.0);
    let _ = mean_grad(&[1.0]);
}
