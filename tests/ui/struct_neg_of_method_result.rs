use autodiff::{Differentiable, differentiate};
use std::ops::Neg;

#[derive(Clone, Copy, Differentiable)]
struct C {
    re: f64,
    im: f64,
}

#[differentiate]
impl Neg for C {
    type Output = C;
    fn neg(self) -> C {
        C { re: -self.re, im: -self.im }
    }
}

#[differentiate]
impl C {
    fn scale(self, k: f64) -> C {
        C { re: self.re * k, im: self.im * k }
    }
}

// `-` of what a method returned: the macro does not see that it is a `C` (a method may return
// a float, `-d.norm()`), and takes it for a float's; the note says to bind it to a local
// declared with its type or to call `C::neg`.
#[differentiate]
fn negated(x: f64, t: f64) -> f64 {
    let d = C { re: x, im: 2.0 * x };
    let e = -d.scale(t);
    e.re + e.im
}

fn main() {}
