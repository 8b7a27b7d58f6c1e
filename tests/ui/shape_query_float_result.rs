use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
impl V2 {
    pub fn len(&self) -> f64 {
        (self.x * self.x + self.y * self.y).sqrt()
    }
}

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct Seg {
    pub a: V2,
    pub b: V2,
}

// On a field the macro does not see the struct: `len` is taken for a container's, whose
// result is a constant of the derivative; a float result is an error, not a zero gradient.
#[differentiate]
fn seg_len(s: Seg) -> f64 {
    s.a.len()
}

fn main() {
    let _ = seg_len_grad(Seg {
        a: V2 { x: 3.0, y: 4.0 },
        b: V2 { x: 0.0, y: 0.0 },
    });
}
