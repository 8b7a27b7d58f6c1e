use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[derive(Clone)]
pub struct Pair(pub f64, pub f64);

#[differentiate]
fn f(x: f64, base: Point) -> f64 {
    let p = Pair { 0: x, 1: base.y };
    p.0.hypot(p.1)
}

fn main() {
    let _ = f_grad(1.0, Point { x: 0.0, y: 2.0 });
}
