//! Under the block's `wrt(x)`, `penalty` has nothing to differentiate (`self` is left out, and
//! it has no other parameter), so it is a constant where it is called; called on a receiver
//! that the caller differentiates, its missing gradient is an error at the call that names
//! `wrt(..)`, never a zero.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
struct Model {
    w: f64,
}

#[differentiate(wrt(x))]
impl Model {
    fn predict(&self, x: f64) -> f64 {
        self.w * x
    }
    fn penalty(&self) -> f64 {
        self.w * self.w
    }
}

#[differentiate]
fn loss(m: &Model, x: f64) -> f64 {
    m.penalty() + x
}

fn main() {
    let _ = loss_grad(&Model { w: 1.0 }, 2.0);
}
