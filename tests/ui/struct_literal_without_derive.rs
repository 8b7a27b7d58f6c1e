use autodiff::differentiate;

pub struct Point {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
fn f(x: f64) -> f64 {
    let p = Point { x, y: 2.0 };
    p.x.hypot(p.y)
}

fn main() {
    let _ = f_grad(1.0);
}
