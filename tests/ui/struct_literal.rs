use autodiff::{Differentiable, differentiate};

#[derive(Clone, Differentiable)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
fn f(x: f64, base: Point) -> f64 {
    let p = Point { x, ..base };
    p.x.hypot(p.y)
}

fn main() {
    let _ = f_grad(1.0, Point { x: 0.0, y: 2.0 });
}
