// `#[differentiate]` on an operator impl for `f64` (a scalar on the left of a struct): the
// derivatives would go into an inherent `impl f64`, which a primitive type cannot have, and
// `self * v.x` inside was taken for the method calling itself ("a recursive function cannot be
// differentiated"). One error says to put the struct on the left.
use autodiff::{Differentiable, differentiate};
use std::ops::Mul;

#[derive(Clone, Copy, Differentiable)]
struct V2 {
    x: f64,
    y: f64,
}

#[differentiate]
impl Mul<V2> for f64 {
    type Output = V2;
    fn mul(self, v: V2) -> V2 {
        V2 {
            x: self * v.x,
            y: self * v.y,
        }
    }
}

fn main() {
    let v = 2.0 * V2 { x: 1.0, y: 2.0 };
    assert_eq!(v.x + v.y, 6.0);
}
