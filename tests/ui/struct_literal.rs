use autodiff::differentiate;

pub struct Point {
    pub x: f64,
    pub y: f64,
}

fn norm(p: Point) -> f64 {
    p.x.hypot(p.y)
}

#[differentiate]
fn f(x: f64) -> f64 {
    norm(Point { x, y: 2.0 })
}

fn main() {
    let _ = f_grad(1.0);
}
