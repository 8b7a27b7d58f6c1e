// An operator of the user's struct whose impl is not differentiated: the error is at the
// operator, naming the generated function the `#[differentiate]` on the impl would write.
use autodiff::{Differentiable, differentiate};
use std::ops::Sub;

#[derive(Clone, Copy, Differentiable)]
struct V2 {
    x: f64,
    y: f64,
}

impl Sub for V2 {
    type Output = V2;
    fn sub(self, o: V2) -> V2 {
        V2 {
            x: self.x - o.x,
            y: self.y - o.y,
        }
    }
}

#[differentiate]
fn gap(a: V2, b: V2) -> f64 {
    let d = a - b;
    d.x * d.x + d.y * d.y
}

fn main() {}
