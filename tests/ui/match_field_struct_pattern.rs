use autodiff::{Differentiable, differentiate};

// A tuple struct's pattern on a field takes differentiable values apart: still an error (only a
// variant's pattern, `Act::Soft(b)`, says the field holds an enum, which is data).
#[derive(Clone, Copy, Differentiable)]
pub struct V2(pub f64, pub f64);

#[derive(Clone, Differentiable)]
pub struct Body {
    pub pos: V2,
    pub m: f64,
}

#[differentiate]
fn f(b: &Body) -> f64 {
    match b.pos {
        V2(x, y) => b.m * x * y,
    }
}

fn main() {
    let _ = f_grad(&Body { pos: V2(1.0, 2.0), m: 3.0 });
}
