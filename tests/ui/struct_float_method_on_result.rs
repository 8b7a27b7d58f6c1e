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
    pub fn exp(&self) -> C {
        let m = self.re.exp();
        C { re: m * self.im.cos(), im: m * self.im.sin() }
    }
}

// `abs` on what a method returned is taken for the float rule (the method may return a
// float); the note says to write `C::abs(&(p + q).exp())`. On what `+` returned it is the
// struct's.
#[differentiate]
fn magnitude(p: C, q: C) -> f64 {
    (p + q).exp().abs()
}

fn main() {
    let p = C { re: 1.0, im: 2.0 };
    let _ = magnitude_grad(p, p);
}
