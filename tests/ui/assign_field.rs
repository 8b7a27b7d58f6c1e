use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
pub struct Spring {
    pub k: f64,
    pub rest: f64,
}

// A field of a parameter taken by reference: the error says to copy it into a local.
#[differentiate]
fn stiffen(s: &mut Spring, x: f64) -> f64 {
    s.k = 2.0 * x;
    s.k * (x - s.rest)
}

fn main() {
    let mut s = Spring { k: 1.0, rest: 0.0 };
    let _ = stiffen_grad(&mut s, 1.0);
}
