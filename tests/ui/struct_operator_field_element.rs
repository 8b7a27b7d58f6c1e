use autodiff::{Differentiable, differentiate};
use std::ops::{Add, Mul};

#[derive(Clone, Copy, Differentiable)]
struct C {
    re: f64,
    im: f64,
}

#[differentiate]
impl Add for C {
    type Output = C;
    fn add(self, o: C) -> C {
        C { re: self.re + o.re, im: self.im + o.im }
    }
}

#[differentiate]
impl Mul for C {
    type Output = C;
    fn mul(self, o: C) -> C {
        C { re: self.re * o.re - self.im * o.im, im: self.re * o.im + self.im * o.re }
    }
}

#[derive(Clone, Differentiable)]
struct U2 {
    m: [[C; 2]; 2],
}

// An element of a field on the left of a struct's product: the macro does not see the field's
// type, and the error says how to name it (`C::mul(self.m[0][0], v[0])`, followed).
#[differentiate]
impl U2 {
    fn apply(&self, v: [C; 2]) -> C {
        self.m[0][0] * v[0] + C::mul(self.m[0][1], v[1])
    }
}

fn main() {}
