//! `while let` is `loop` over the `match` it stands for.
#![deny(warnings)]
#![allow(clippy::assign_op_pattern)] // `y = y * x`, as users write it

use autodiff::differentiate;

#[differentiate]
fn f(x: f64, mut ks: Vec<u32>) -> f64 {
    let mut y = x;
    while let Some(_k) = ks.pop() {
        y = y * x;
    }
    y
}

fn main() {
    let _ = f_grad(1.0, vec![1, 2]);
}
