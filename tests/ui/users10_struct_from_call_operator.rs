use autodiff::{Differentiable, differentiate};
use std::ops::Mul;

#[derive(Clone, Copy, Differentiable)]
struct Spin {
    a: f64,
    b: f64,
}

#[differentiate]
impl Mul<f64> for Spin {
    type Output = Spin;
    fn mul(self, k: f64) -> Spin {
        Spin { a: self.a * k, b: self.b * k }
    }
}

#[differentiate]
fn rate(s: Spin) -> Spin {
    Spin { a: s.b, b: -s.a }
}

// `k` is a function's result: the macro does not see its type, so `k * dt` is taken for the
// float rule; `let k: Spin = rate(s);` is followed.
#[differentiate]
fn step(s: Spin, dt: f64) -> f64 {
    let k = rate(s);
    let d = k * dt;
    d.a
}

fn main() {
    let _ = step_grad(Spin { a: 1.0, b: 2.0 }, 0.1);
}
