use autodiff::{Differentiable, differentiate};
use std::ops::{Add, Mul};

#[derive(Clone, Copy, Differentiable)]
struct V2 {
    x: f64,
    y: f64,
}

impl Add for V2 {
    type Output = V2;
    fn add(self, o: V2) -> V2 {
        V2 { x: self.x + o.x, y: self.y + o.y }
    }
}

impl Mul<V2> for f64 {
    type Output = V2;
    fn mul(self, v: V2) -> V2 {
        V2 { x: self * v.x, y: self * v.y }
    }
}

// The impl is not differentiated: rustc says there is no `add_vjp` at the operator.
#[differentiate]
fn f(vx: f64, vy: f64) -> f64 {
    let p = V2 { x: 0.0, y: 1.0 };
    let v = V2 { x: vx, y: vy };
    let q = p + v;
    q.x * q.y
}

fn main() {}

// The struct on the right only: the macro's error says to write it on the left.
#[differentiate]
fn g(k: f64, v: V2) -> f64 {
    let q = k * v;
    q.x
}
