use autodiff::{Differentiable, differentiate};
use std::ops::Mul;

// An operator of the user's struct with an integer on the right (`impl Mul<i32> for V`), on a
// field whose type the macro does not see: arithmetic with an integer literal is taken for
// integer arithmetic, which the generated code checks, so the struct is an error that says to
// call the operator through its type, not a product whose gradient is dropped.
#[derive(Clone, Copy, Differentiable)]
struct V {
    x: f64,
    y: f64,
}

#[differentiate]
impl Mul<i32> for V {
    type Output = V;
    fn mul(self, k: i32) -> V {
        V {
            x: self.x * k as f64,
            y: self.y * k as f64,
        }
    }
}

#[derive(Clone, Copy, Differentiable)]
struct Body {
    v: V,
    m: f64,
}

#[differentiate]
fn momentum(b: &Body) -> f64 {
    let w = b.v * 2;
    w.x * b.m + w.y
}

fn main() {}
