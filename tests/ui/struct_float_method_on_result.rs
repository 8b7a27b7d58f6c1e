use autodiff::{Differentiable, differentiate};

#[derive(Clone, Copy, Debug, Differentiable)]
pub struct C {
    pub re: f64,
    pub im: f64,
}

#[differentiate]
impl std::ops::Add for C {
    type Output = C;
    fn add(self, o: C) -> C {
        C { re: self.re + o.re, im: self.im + o.im }
    }
}

#[differentiate]
impl C {
    pub fn abs(&self) -> f64 {
        (self.re * self.re + self.im * self.im).sqrt()
    }
}

// `abs` on what an operator returned is taken for the float rule; the note says to write
// `C::abs(&(p + q))`.
#[differentiate]
fn magnitude(p: C, q: C) -> f64 {
    (p + q).abs()
}

fn main() {
    let p = C { re: 1.0, im: 2.0 };
    let _ = magnitude_grad(p, p);
}
