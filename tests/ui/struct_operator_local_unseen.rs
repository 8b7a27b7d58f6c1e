use autodiff::{Differentiable, differentiate};
use std::ops::{Add, Div};

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
impl Div for C {
    type Output = C;
    fn div(self, o: C) -> C {
        let d = o.re * o.re + o.im * o.im;
        C { re: (self.re * o.re + self.im * o.im) / d, im: (self.im * o.re - self.re * o.im) / d }
    }
}

#[differentiate]
impl C {
    fn scale(self, k: f64) -> C {
        C { re: self.re * k, im: self.im * k }
    }
    fn exp(self) -> C {
        let e = self.re.exp();
        C { re: e * self.im.cos(), im: e * self.im.sin() }
    }
}

// `phi` is a `C`, but the macro takes `exp` on what `scale` returned for the float rule, and
// does not see the local's type: the error says to declare it and to call `C::exp`.
#[differentiate]
fn ratio(a: f64, b: f64) -> f64 {
    let z = C { re: a, im: b };
    let den = z + C { re: 1.0, im: 0.0 };
    let phi = z.scale(0.5).exp();
    (phi / den).re
}

fn main() {}
