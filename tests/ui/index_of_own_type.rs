use std::ops::Index;

use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Default, Differentiable)]
struct V3([f64; 3]);

impl Index<usize> for V3 {
    type Output = f64;
    fn index(&self, i: usize) -> &f64 {
        &self.0[i]
    }
}

#[differentiate]
fn f(x: f64, w: f64) -> f64 {
    let a = V3([x, w, x * w]);
    a[0] * a[2]
}

fn main() {
    let _ = f_grad(1.0, 2.0);
}
