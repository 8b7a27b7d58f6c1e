//! `if let` is the `match` it stands for: a pattern over data that is not differentiated.
#![deny(warnings)]

use autodiff::differentiate;

#[differentiate]
fn f(x: f64, k: Option<u32>) -> f64 {
    if let Some(n) = k { x.powi(n as i32) } else { x }
}

fn main() {
    let _ = f_grad(1.0, Some(2));
}
