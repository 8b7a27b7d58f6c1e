use autodiff::{Differentiable, differentiate};
use std::ops::Add;

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

// The user's operator is not followed: the message says to write a method.
#[differentiate]
fn f(vx: f64, vy: f64) -> f64 {
    let p = V2 { x: 0.0, y: 1.0 };
    let v = V2 { x: vx, y: vy };
    let q = p + v;
    q.x * q.y
}

fn main() {}

// On a parameter the macro does not see the struct: rustc's error at the operator says it.
#[differentiate]
fn g(p: V2, v: V2) -> f64 {
    let q = p + v;
    q.x
}
