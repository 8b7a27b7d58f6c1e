// An `f64` beside an `f32`, each named so (a suffixed literal, a constant of `f64`, a sum
// started at `0.0f64`, beside an `f32` parameter): one error that says to convert it, not
// rustc's error and three more from the generated code.
use autodiff::differentiate;

#[differentiate]
fn scaled(x: f32) -> f32 {
    x * 2.0f64
}

#[differentiate]
fn circle(r: f32) -> f32 {
    std::f64::consts::PI * r * r
}

#[differentiate]
fn share(x: f32, n: usize) -> f32 {
    let mut s = 0.0f64;
    for _ in 0..n {
        s += 1.0;
    }
    x / s
}

fn main() {}
