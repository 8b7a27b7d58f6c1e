// A method of the user's struct whose result is cast to a float is taken for a count: a float
// result there is a compile error that says to drop the cast, never a zero derivative.
use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct V2 {
    pub x: f64,
    pub y: f64,
}

#[differentiate]
impl V2 {
    fn energy(&self) -> f64 {
        self.x * self.y
    }
}

#[differentiate]
fn f(v: &V2) -> f64 {
    v.energy() as f64 * 2.0
}

fn main() {
    let _ = f_grad(&V2 { x: 1.0, y: 2.0 });
}
